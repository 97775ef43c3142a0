import { describe, expect, it } from 'vitest';
import { FormSession, parseXForm } from '../../../../src/core/xforms/form-session.ts';
import type { FormSessionOptions } from '../../../../src/core/xforms/form-session-types.ts';
import { InstanceNode } from '../../../../src/core/xforms/tree/instance-node.ts';

/**
 * recomputeFrom runs only the triggerables reading the changed node and those reading a
 * result that changed; these pin that the values still come out as a full recompute
 * (JavaRosa's TriggerableDag) gives them.
 */
const FORM = `<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms">
<h:head><h:title>t</h:title><model>
<instance><data><q/><flag/><tail/><pick/><n/><g/><under/></data></instance>
<bind nodeset="/data/flag" calculate="if(/data/q = '', 'empty', 'set')"/>
<bind nodeset="/data/tail" calculate="concat(/data/flag, '-', string-length(/data/flag))"/>
<bind nodeset="/data/pick" calculate="concat(/data/flag, ':', random())"/>
<bind nodeset="/data/under" calculate="if(/data/flag = 'set', count(/data/g), -1)"/>
<bind nodeset="/data/n" calculate="/data/q * 2"/>
</model></h:head>
<h:body><input ref="/data/q"><label>q</label></input></h:body></h:html>`;

function options(): FormSessionOptions {
  return {
    instances: (_src, id) => {
      const d = InstanceNode.document();
      d.appendChild(new InstanceNode('element', id));
      return d;
    },
    meta: { deviceId: 'd', username: 'u', userId: 'u1', appVersion: 'a' },
  };
}

describe('recompute after an answer', () => {
  it('propagates through results that changed and keeps those that did not', () => {
    const s = FormSession.start(parseXForm(FORM), options());
    expect(s.evaluate('/data/tail')).toBe('empty-5');
    s.answer('/data/q', '1');
    expect(s.evaluate('/data/flag')).toBe('set');
    expect(s.evaluate('/data/tail')).toBe('set-3');
    expect(s.evaluate('/data/under')).toBe('1');
    expect(s.evaluate('/data/n')).toBe('2');
    // flag keeps its value: its readers keep theirs, direct readers of q still update.
    s.answer('/data/q', '4');
    expect(s.evaluate('/data/tail')).toBe('set-3');
    expect(s.evaluate('/data/n')).toBe('8');
  });

  it('re-runs a calculate calling random() whenever it is downstream, as the phone does', () => {
    const s = FormSession.start(parseXForm(FORM), options());
    s.answer('/data/q', '1');
    const seen = new Set<string>();
    for (let i = 2; i < 8; i++) {
      s.answer('/data/q', String(i));
      seen.add(s.evaluate('/data/pick'));
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
