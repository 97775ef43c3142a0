import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { XmlError } from '../../../src/core/errors/xml-error.ts';
import { readForm } from '../../../src/core/protocol/submission/read-form.ts';
import { FormSession, FormValidationError, parseXForm } from '../../../src/core/xforms/form-session.ts';
import type {
  FormSessionOptions,
  FormSnapshot,
  SnapshotNode,
} from '../../../src/core/xforms/form-session-types.ts';
import { buildFixtureInstance } from '../../../src/core/xforms/instances/build-fixture-instance.ts';
import { buildSessionInstance } from '../../../src/core/xforms/instances/build-session-instance.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/xforms');
const regXml = readFileSync(resolve(fixtures, 'registration.xml'), 'utf8');

function options(extra: Partial<FormSessionOptions> = {}): FormSessionOptions {
  let n = 0;
  return {
    instances: (src) => {
      if (src === 'jr://instance/session')
        return buildSessionInstance({
          data: {},
          context: { deviceid: 'dev-1', appversion: 'app-9', username: 'worker1', userid: 'user-1' },
        });
      if (src === 'jr://fixture/item-list:village')
        return buildFixtureInstance({
          name: 'village_list',
          attributes: {},
          text: '',
          children: [
            {
              name: 'village',
              attributes: {},
              text: '',
              children: [leaf('id', 'v1'), leaf('name', 'Riverside')],
            },
            {
              name: 'village',
              attributes: {},
              text: '',
              children: [leaf('id', 'v2'), leaf('name', 'Hilltop')],
            },
          ],
        });
      return undefined;
    },
    meta: { deviceId: 'dev-1', username: 'worker1', userId: 'user-1', appVersion: 'app-9' },
    env: { now: () => new Date('2026-12-02T10:00:00Z'), uuid: () => `uuid-${++n}` },
    ...extra,
  };
}

function leaf(name: string, text: string) {
  return { name, attributes: {}, text, children: [] };
}

function form(model: string, body: string, extraInstance = ''): string {
  return `<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms" xmlns:jr="http://openrosa.org/javarosa">
  <h:head><h:title>T</h:title><model><instance><data xmlns="http://openrosa.org/formdesigner/T">${extraInstance}</data></instance>${model}</model></h:head>
  <h:body>${body}</h:body></h:html>`;
}

describe('parseXForm', () => {
  it('reads the title, root namespace, binds, itext and body of an HQ-style form', () => {
    const def = parseXForm(regXml, { file: 'reg.xml' });
    expect(def.title).toBe('Register household');
    expect(def.xmlns).toBe('http://openrosa.org/formdesigner/REG-1');
    expect(def.name).toBe('Register household');
    expect(def.itext.languages).toEqual(['en', 'fra']);
    expect(def.secondaryInstances.map((i) => i.id)).toEqual(['commcaresession', 'villages']);
    expect(def.repeatTemplates.has('/data/member')).toBe(true);
    // The jr:template node is not part of the live instance.
    expect(def.instance.children[0]?.children.some((c) => c.name === 'member')).toBe(false);
    // Calculates run after what they read: total_age before double_age.
    const order = def.triggerables.map((t) => `${t.kind} ${t.targetPath}`);
    expect(order.indexOf('calculate /data/total_age')).toBeLessThan(
      order.indexOf('calculate /data/double_age'),
    );
    expect(order.indexOf('calculate /data/case/@case_id')).toBeLessThan(
      order.indexOf('calculate /data/member/subcase/case/index/parent'),
    );
  });

  it('refuses malformed XML with XmlError and a form without a model with form-invalid', () => {
    expect(() => parseXForm('<h:html', { file: 'x.xml' })).toThrow(XmlError);
    const e = catchError(() =>
      parseXForm('<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head/></h:html>'),
    );
    expect(e).toBeInstanceOf(XFormError);
    expect((e as XFormError).code).toBe('form-invalid');
  });

  it('names the bind of an XPath syntax error and of an unknown function', () => {
    const bad = catchError(() =>
      parseXForm(form('<bind nodeset="/data/a" calculate="1 +"/>', '', '<a/>'), { file: 'f.xml' }),
    ) as XFormError;
    expect(bad.code).toBe('xpath-syntax');
    expect(bad.ref).toBe('/data/a');
    expect(bad.file).toBe('f.xml');
    const unknown = catchError(() =>
      parseXForm(form('<bind nodeset="/data/a" calculate="no-such-fn(1)"/>', '', '<a/>')),
    ) as XFormError;
    expect(unknown.code).toBe('xpath-unsupported');
    expect(unknown.message).toContain('no-such-fn');
  });

  it('refuses cyclic calculates with calculate-cycle naming the refs', () => {
    const e = catchError(() =>
      parseXForm(
        form(
          '<bind nodeset="/data/a" calculate="/data/b + 1"/><bind nodeset="/data/b" calculate="/data/a + 1"/>',
          '',
          '<a/><b/>',
        ),
      ),
    ) as XFormError;
    expect(e.code).toBe('calculate-cycle');
    expect(e.ref).toContain('/data/a');
    expect(e.ref).toContain('/data/b');
  });

  it('refuses a control bound to a node the instance lacks, and ignores such a bind', () => {
    const e = catchError(() =>
      parseXForm(form('', '<input ref="/data/missing"><label>x</label></input>', '<a/>')),
    ) as XFormError;
    expect(e.code).toBe('form-invalid');
    expect(e.ref).toBe('/data/missing');
    const def = parseXForm(form('<bind nodeset="/data/missing" required="true()"/>', '', '<a/>'));
    expect(def.binds).toHaveLength(0);
    expect(def.warnings[0]).toContain('/data/missing');
  });
});

describe('FormSession', () => {
  it('fills, computes and finishes a registration that HQ reads back with its case blocks', () => {
    const def = parseXForm(regXml, { file: 'reg.xml' });
    const s = FormSession.start(def, options());
    expect(s.answer('/data/name', 'Ann')).toEqual({ ok: true, ref: '/data/name', value: 'Ann' });
    expect(s.answer('/data/age', 30).ok).toBe(true);
    expect(s.question('/data/total_age')).toBeUndefined();
    expect(s.question('/data/age')?.label).toBe('Age of Ann');
    expect(s.question('/data/age')?.labelMarkdown).toBe('**Age** of Ann');
    expect(s.question('/data/adult_label')?.relevant).toBe(true);
    expect(s.question('/data/village')?.choices).toEqual([
      { value: 'v1', label: 'Riverside' },
      { value: 'v2', label: 'Hilltop' },
    ]);
    expect(s.answer('/data/village', 'v2').ok).toBe(true);
    expect(s.answer('/data/details/phone', '555').ok).toBe(true);
    const m = s.addRepeat('/data/member');
    expect(m).toBe('/data/member[1]');
    expect(s.answer(`${m}/mname`, 'Bob').ok).toBe(true);
    const done = s.finish();
    const read = readForm(done.xml);
    expect(read.xmlns).toBe('http://openrosa.org/formdesigner/REG-1');
    expect(read.attributes).toMatchObject({ uiVersion: '1', version: '7', name: 'Register household' });
    expect(read.meta).toMatchObject({
      deviceID: 'dev-1',
      username: 'worker1',
      userID: 'user-1',
      appVersion: 'app-9',
    });
    expect(read.meta?.instanceID).toBe(done.instanceId);
    expect(read.caseBlocks).toHaveLength(2);
    const household = read.caseBlocks.find((b) => b.path === 'data/case');
    const member = read.caseBlocks.find((b) => b.path !== 'data/case');
    expect(household?.version).toBe('v2');
    expect(household?.actions[0]).toMatchObject({
      kind: 'create',
      caseName: 'Ann',
      ownerId: 'user-1',
      caseType: 'household',
    });
    expect(member?.actions.find((a) => a.kind === 'create')).toMatchObject({
      caseName: 'Bob',
      caseType: 'member',
    });
    const index = member?.actions.find((a) => a.kind === 'index');
    expect(index).toMatchObject({ entries: [{ identifier: 'parent', target: household?.caseId }] });
    expect(done.xml).toContain('<total_age>61</total_age>');
    expect(done.xml).toContain('<double_age>30.5</double_age>');
    expect(done.xml).toContain('xmlns:n0="http://commcarehq.org/case/transaction/v2"');
    expect(done.xml).toContain('<orx:meta xmlns:cc="http://commcarehq.org/xforms"');
  });

  it('refuses a value of the wrong type or off the choice list as a type issue, and keeps the old value', () => {
    const s = FormSession.start(parseXForm(regXml), options());
    s.answer('/data/age', 40);
    expect(s.answer('/data/age', 'forty')).toMatchObject({
      ok: false,
      issue: { code: 'type', ref: '/data/age' },
    });
    expect(s.answer('/data/village', 'v9')).toMatchObject({ ok: false, issue: { code: 'type' } });
    expect(s.question('/data/age')?.value).toBe('40');
    expect(() => s.answer('/data/nope', 'x')).toThrow(XFormError);
  });

  it('shows the constraint message in the current language', () => {
    const s = FormSession.start(parseXForm(regXml), options());
    expect(s.answer('/data/age', 200)).toMatchObject({
      ok: false,
      issue: { code: 'constraint', message: 'Age must be 0 to 129' },
    });
    s.setLanguage('fra');
    expect(s.answer('/data/age', -1)).toMatchObject({ issue: { message: "L'âge doit être entre 0 et 129" } });
    expect(s.question('/data/name')?.label).toBe('Nom');
  });

  it('inherits relevance and prunes non-relevant nodes from the submission', () => {
    const s = FormSession.start(parseXForm(regXml), options());
    s.answer('/data/name', 'Kid');
    expect(s.question('/data/details')?.relevant).toBe(false);
    expect(s.question('/data/details/phone')?.relevant).toBe(false);
    s.answer('/data/age', 10);
    expect(s.question('/data/details/phone')?.relevant).toBe(true);
    expect(s.question('/data/adult_label')?.relevant).toBe(false);
    s.answer('/data/details/phone', '1');
    const xml = s.finish().xml;
    expect(xml).not.toContain('adult_label');
    expect(xml).toContain('<phone>1</phone>');
  });

  it('finish() with a required question empty throws the issues and gives no XML', () => {
    const s = FormSession.start(parseXForm(regXml), options());
    const e = catchError(() => s.finish());
    expect(e).toBeInstanceOf(FormValidationError);
    expect((e as FormValidationError).issues).toContainEqual({
      ref: '/data/name',
      code: 'required',
      message: 'An answer is required.',
    });
    // The phone's rule: non-relevant required questions do not block (details is not relevant without age).
    expect((e as FormValidationError).issues.some((i) => i.ref === '/data/details/phone')).toBe(false);
  });

  it('keeps instanceID and case ids across snapshot and resume', () => {
    const def = parseXForm(regXml);
    const s = FormSession.start(def, options());
    s.answer('/data/name', 'Ann');
    s.answer('/data/age', 30);
    s.addRepeat('/data/member');
    const snap = JSON.parse(JSON.stringify(s.snapshot())) as FormSnapshot;
    const started = snapValue(snap.instance, 'instanceID');
    expect(started).toMatch(/^uuid-/);
    const r = FormSession.resume(def, snap, options({ env: { uuid: () => 'other' } }));
    expect(r.question('/data/age')?.label).toBe('Age of Ann');
    r.answer('/data/details/phone', '1');
    r.answer('/data/member[1]/mname', 'Bob');
    const a = readForm(r.finish().xml);
    expect(a.meta?.instanceID).toBe(started);
    expect(a.caseBlocks.every((b) => b.caseId !== 'other')).toBe(true);
  });

  it('adds and removes repeat instances; jr:count repeats follow their count and keep answers', () => {
    const xml = form(
      `<bind nodeset="/data/n" type="xsd:int"/><bind nodeset="/data/total" calculate="count(/data/kid)"/>`,
      `<input ref="/data/n"><label>n</label></input><repeat nodeset="/data/kid" jr:count="/data/n" jr:noAddRemove="true()"><input ref="/data/kid/kname"><label>k</label></input></repeat>`,
      '<n/><kid jr:template=""><kname/></kid><total/>',
    );
    const s = FormSession.start(parseXForm(xml), options());
    expect(s.questions().filter((q) => q.kind === 'repeat-instance')).toHaveLength(0);
    s.answer('/data/n', 2);
    expect(
      s
        .questions()
        .filter((q) => q.kind === 'repeat-instance')
        .map((q) => q.ref),
    ).toEqual(['/data/kid[1]', '/data/kid[2]']);
    s.answer('/data/kid[2]/kname', 'B');
    s.answer('/data/n', 3);
    expect(s.question('/data/kid[2]/kname')?.value).toBe('B');
    expect(() => s.addRepeat('/data/kid')).toThrow(XFormError);
    s.answer('/data/n', 1);
    const out = s.finish().xml;
    expect(out.match(/<kid>/g)).toHaveLength(1);
    expect(out).toContain('<total>1</total>');
  });

  it('answers multi-selects, keeps read-only nodes, fires value-changed setvalues and lists field-lists', () => {
    const xml = form(
      `<bind nodeset="/data/fruits"/><bind nodeset="/data/locked" readonly="true()"/><bind nodeset="/data/g/a"/>
       <bind nodeset="/data/count" calculate="count-selected(/data/fruits)"/>`,
      `<select ref="/data/fruits"><label>Fruits</label><item><label>Apple</label><value>apple</value></item><item><label>Pear</label><value>pear</value></item>
         <setvalue event="xforms-value-changed" ref="/data/changed" value="concat('changed:', /data/fruits)"/></select>
       <input ref="/data/locked"><label>Locked</label></input>
       <group ref="/data/g" appearance="field-list"><label>Page <output value="/data/count"/></label><input ref="/data/g/a"><label>A</label><hint>Say <output value="/data/fruits"/></hint></input></group>`,
      '<fruits/><locked>fixed</locked><changed/><count/><g><a/></g>',
    );
    const s = FormSession.start(parseXForm(xml), options());
    expect(s.answer('/data/fruits', ['apple', 'pear'])).toMatchObject({ ok: true, value: 'apple pear' });
    expect(s.answer('/data/fruits', ['apple', 'plum'])).toMatchObject({ ok: false, issue: { code: 'type' } });
    expect(s.evaluate('/data/changed')).toBe('changed:apple pear');
    expect(s.question('/data/g')).toMatchObject({ kind: 'group', fieldList: true, label: 'Page 2' });
    expect(s.question('/data/g/a')).toMatchObject({ hint: 'Say apple pear', depth: 1, parentRef: '/data/g' });
    expect(s.question('/data/locked')).toMatchObject({ readonly: true, value: 'fixed' });
    expect(() => s.answer('/data/locked', 'x')).toThrow(XFormError);
    expect(s.question('/data/fruits')?.choices).toEqual([
      { value: 'apple', label: 'Apple' },
      { value: 'pear', label: 'Pear' },
    ]);
  });

  it('removes a user repeat instance and recomputes what counts it', () => {
    const xml = form(
      '<bind nodeset="/data/n" calculate="count(/data/kid)"/>',
      '<repeat nodeset="/data/kid"><input ref="/data/kid/kname"><label>k</label></input></repeat>',
      '<kid jr:template=""><kname/></kid><n/>',
    );
    const s = FormSession.start(parseXForm(xml), options());
    s.addRepeat('/data/kid');
    s.addRepeat('/data/kid');
    s.answer('/data/kid[2]/kname', 'second');
    expect(s.evaluate('/data/n')).toBe('2');
    s.removeRepeat('/data/kid[1]');
    expect(s.evaluate('/data/n')).toBe('1');
    expect(s.question('/data/kid[1]/kname')?.value).toBe('second');
    expect(() => s.removeRepeat('/data/n')).toThrow(XFormError);
  });

  it('names the ref of an expression that fails while it is evaluated', () => {
    const xml = form(
      '<bind nodeset="/data/b" calculate="regex(/data/a, \'[\')"/>',
      '<input ref="/data/a"><label>a</label></input>',
      '<a/><b/>',
    );
    const def = parseXForm(xml);
    const e = catchError(() => FormSession.start(def, options())) as XFormError;
    expect(e.code).toBe('xpath-eval');
    expect(e.ref).toBe('/data/b');
  });

  it('reads absolute paths inside a repeat from the same repeat instance (JavaRosa contextualize)', () => {
    // HQ's app builder writes absolute paths everywhere; a subcase in a repeat names its own instance.
    const xml = form(
      `<bind nodeset="/data/kid/kname" required="true()"/>
       <bind nodeset="/data/kid/greeting" calculate="concat('hi ', /data/kid/kname)"/>
       <bind nodeset="/data/kid/older" relevant="/data/kid/age &gt; 10"/>
       <bind nodeset="/data/total" calculate="count(/data/kid)"/>`,
      `<repeat nodeset="/data/kid"><input ref="/data/kid/kname"><label>Name of <output value="/data/kid/kname"/></label></input>
         <input ref="/data/kid/age"><label>Age</label></input><input ref="/data/kid/older"><label>Older</label></input></repeat>`,
      '<kid jr:template=""><kname/><age/><greeting/><older/></kid><total/>',
    );
    const s = FormSession.start(parseXForm(xml), options());
    s.addRepeat('/data/kid');
    s.addRepeat('/data/kid');
    s.answer('/data/kid[1]/kname', 'Ann');
    s.answer('/data/kid[2]/kname', 'Bob');
    s.answer('/data/kid[1]/age', 5);
    s.answer('/data/kid[2]/age', 15);
    expect(s.evaluate('/data/kid[1]/greeting')).toBe('hi Ann');
    expect(s.evaluate('/data/kid[2]/greeting')).toBe('hi Bob');
    expect(s.question('/data/kid[1]/older')?.relevant).toBe(false);
    expect(s.question('/data/kid[2]/older')?.relevant).toBe(true);
    expect(s.question('/data/kid[2]/kname')?.label).toBe('Name of Bob');
    expect(s.evaluate('/data/total')).toBe('2');
    expect(s.evaluate('/data/kid/kname', '/data/kid[2]/age')).toBe('Bob');
  });

  it('reads a non-relevant node as empty in expressions but keeps its value for when it is relevant again', () => {
    const xml = form(
      `<bind nodeset="/data/b" relevant="/data/a = 'yes'"/><bind nodeset="/data/c" calculate="concat('[', /data/b, ']')"/>`,
      '<input ref="/data/a"><label>a</label></input><input ref="/data/b"><label>b</label></input>',
      '<a/><b/><c/>',
    );
    const s = FormSession.start(parseXForm(xml), options());
    s.answer('/data/a', 'yes');
    s.answer('/data/b', 'kept');
    expect(s.evaluate('/data/c')).toBe('[kept]');
    s.answer('/data/a', 'no');
    expect(s.evaluate('/data/c')).toBe('[]');
    expect(s.question('/data/b')?.value).toBe('kept');
    s.answer('/data/a', 'yes');
    expect(s.evaluate('/data/c')).toBe('[kept]');
  });

  it('applies a bind whose nodeset has a predicate only to the nodes it selects', () => {
    const xml = form(
      `<bind nodeset="/data/t[@kind='a']/v" calculate="'set'"/>`,
      '',
      '<t kind="a"><v/></t><t kind="b"><v/></t>',
    );
    const s = FormSession.start(parseXForm(xml), options());
    expect(s.evaluate('/data/t[1]/v')).toBe('set');
    expect(s.evaluate('/data/t[2]/v')).toBe('');
  });

  it('fails to start with instance-missing naming the instance', () => {
    const def = parseXForm(regXml, { file: 'reg.xml' });
    const e = catchError(() => FormSession.start(def, options({ instances: () => undefined }))) as XFormError;
    expect(e.code).toBe('instance-missing');
    expect(e.ref).toBe('jr://instance/session');
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

function snapValue(n: SnapshotNode, name: string): string | undefined {
  if (n.n === name) return n.v;
  for (const c of n.c ?? []) {
    const v = snapValue(c, name);
    if (v !== undefined) return v;
  }
  return undefined;
}
