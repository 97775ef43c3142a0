import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { parseProfile } from '../../../src/core/suite/parse-profile.ts';
import { parseSuite } from '../../../src/core/suite/parse-suite.ts';
import { evaluateText, substituteArguments } from '../../../src/core/suite/suite-text.ts';
import { CORE_SAMPLES } from './sample-apps.ts';

function errorOf(fn: () => unknown): XFormError {
  try {
    fn();
  } catch (e) {
    if (e instanceof XFormError) return e;
    throw e;
  }
  throw new Error('expected an XFormError');
}

describe('parseSuite', () => {
  it('reads a <display> block with text, badge and media', () => {
    const s = parseSuite(
      `<suite><menu id="m1" root="m0" style="grid" relevant="true()"><display><text>Menu 1</text><text form="badge"><xpath function="1 + 1"/></text><media image="jr://file/i.png" audio="jr://file/a.mp3"/></display><command id="c" relevant="false()"/></menu></suite>`,
      'suite.xml',
    );
    const m = s.menus[0];
    expect(m?.root).toBe('m0');
    expect(m?.style).toBe('grid');
    expect(m?.relevant).toBe('true()');
    expect(m?.display.text).toEqual({ kind: 'flat', value: 'Menu 1' });
    expect(m?.display.badge).toEqual({ kind: 'xpath', expression: '1 + 1', variables: new Map() });
    expect(m?.display.image).toBe('jr://file/i.png');
    expect(m?.display.audio).toBe('jr://file/a.mp3');
    expect(m?.commands).toEqual([{ id: 'c', relevant: 'false()' }]);
  });

  it('defaults a menu root to root', () => {
    expect(parseSuite('<suite><menu id="m0"><text>x</text></menu></suite>', 's.xml').menus[0]?.root).toBe(
      'root',
    );
  });

  it('reads datums of each kind and marks what fieldsim cannot run', () => {
    const s = parseSuite(
      `<suite><entry><form>urn:f</form><command id="c"><text>C</text></command>
        <session>
          <datum id="new" function="uuid()"/>
          <datum id="case_id" nodeset="instance('casedb')/casedb/case" value="./@case_id" detail-select="s" detail-confirm="l" detail-persistent="p" autoselect="true"/>
          <query url="http://x" storage-instance="results"><data key="a" ref="'b'"/></query>
          <instance-datum id="many" nodeset="instance('casedb')/casedb/case" value="./@case_id" detail-select="s"/>
        </session><stack><push><command value="'m0'"/></push></stack></entry></suite>`,
      'suite.xml',
    );
    const e = s.entries[0];
    expect(e?.datums.map((d) => [d.kind, d.id])).toEqual([
      ['computed', 'new'],
      ['entity', 'case_id'],
      ['entity', 'many'],
    ]);
    const cd = e?.datums[1];
    if (cd?.kind !== 'entity') throw new Error('entity datum expected');
    expect([cd.detailSelect, cd.detailConfirm, cd.detailPersistent, cd.autoselect]).toEqual([
      's',
      'l',
      'p',
      true,
    ]);
    expect(e?.unsupported).toEqual(['query', 'instance-datum']);
    expect(e?.hasStack).toBe(true);
  });

  it('reads detail fields, sorts, variables, tabs and actions', () => {
    const s = parseSuite(
      `<suite><detail id="d"><title><text>T</text></title>
        <variables><v1 function="1"/><v2 function="$v1 + 1"/></variables>
        <field><header width="0"><text/></header><template form="phone"><text><xpath function="phone"/></text></template><sort type="int" order="1" direction="descending"/></field>
        <field><header><text>H</text></header><template><text><locale id="k"/></text></template><sort type="weird"/></field>
        <action auto_launch="true" relevant="true()"><display><text>Add</text></display></action>
        <detail><title><text>Tab</text></title></detail>
      </detail></suite>`,
      'suite.xml',
    );
    const d = s.details[0];
    expect([...(d?.variables ?? [])]).toEqual([
      ['v1', '1'],
      ['v2', '$v1 + 1'],
    ]);
    expect(d?.fields[0]?.hidden).toBe(true);
    expect(d?.fields[0]?.templateForm).toBe('phone');
    expect(d?.fields[0]?.sort).toEqual({ type: 'int', direction: 'descending', order: 1, text: undefined });
    expect(d?.fields[1]?.sort).toEqual({
      type: 'string',
      direction: 'ascending',
      order: -1,
      text: undefined,
    });
    expect(d?.actions[0]?.autoLaunch).toBe(true);
    expect(d?.details[0]?.id).toBe('');
  });

  it('names file and line for structural mistakes', () => {
    const e1 = errorOf(() => parseSuite('<suite>\n<menu><text>x</text></menu></suite>', 'suite.xml'));
    expect(e1.code).toBe('app-invalid');
    expect(e1.file).toBe('suite.xml');
    expect(e1.message).toContain('line 2');
    expect(e1.message).toContain('id');
    expect(errorOf(() => parseSuite('<profile/>', 'suite.xml')).message).toContain('not <suite>');
    expect(
      errorOf(() => parseSuite('<suite><entry><form>x</form></entry></suite>', 'suite.xml')).message,
    ).toContain('no <command>');
    expect(
      errorOf(() => parseSuite('<suite><xform><resource id="a"/></xform></suite>', 'suite.xml')).message,
    ).toContain('no <location>');
  });

  it('refuses a DOCTYPE (entity expansion) as malformed', () => {
    const e = errorOf(() => parseSuite('<!DOCTYPE suite [<!ENTITY x "y">]><suite/>', 'suite.xml'));
    expect(e.code).toBe('app-invalid');
  });
});

describe('parseProfile', () => {
  it('reads commcare-core basic_profile.ccpr (ProfileTests: version 102, generated id and name)', () => {
    const p = parseProfile(readFileSync(join(CORE_SAMPLES, 'basic_profile.ccpr'), 'utf8'));
    expect(p.version).toBe(102);
    expect(p.uniqueId).toBe('7a39ca8c8f2ea40c473b0d4c05dc3a63');
    expect(p.name).toBe('CommCare');
    expect(p.properties.get('cur_locale')).toBe('en');
    // cc-show-saved is set twice; the later one wins
    expect(p.properties.get('cc-show-saved')).toBe('yes');
  });

  it('refuses a version that is not a number and a profile without suites', () => {
    expect(errorOf(() => parseProfile('<profile version="x"><suite/></profile>')).message).toContain(
      'version',
    );
    expect(errorOf(() => parseProfile('<profile version="1"/>')).message).toContain('no <suite>');
  });
});

describe('texts', () => {
  it('substitutes numbered arguments and leaves unmatched placeholders', () => {
    // CommCare's `${n}` placeholder, built so it does not read as a template slot
    const p = (n: number): string => `$\{${n}}`;
    expect(substituteArguments(`${p(1)}-${p(0)}-${p(2)}`, ['a', 'b'])).toBe(`b-a-${p(2)}`);
  });

  it('evaluates a composite of flat, locale and xpath parts', () => {
    const s = parseSuite(
      `<suite><menu id="m"><text>Hello <locale id="who"/> <xpath function="concat($a, '!')"><variable name="a"><locale id="who"/></variable></xpath></text></menu></suite>`,
      's.xml',
    );
    const text = s.menus[0]?.display.text;
    if (!text) throw new Error('no text');
    const out = evaluateText(text, {
      localize: (id) => (id === 'who' ? 'World' : undefined),
      xpath: (expr, vars) => `${expr}|${vars.get('a')}`,
    });
    expect(out).toBe("HelloWorldconcat($a, '!')|World");
  });

  it('needs an XPath context for XPath texts', () => {
    const e = errorOf(() =>
      evaluateText(
        { kind: 'xpath', expression: 'today()', variables: new Map() },
        { localize: () => undefined },
      ),
    );
    expect(e.code).toBe('xpath-eval');
  });
});
