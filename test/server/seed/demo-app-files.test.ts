import { describe, expect, it } from 'vitest';
import {
  attr,
  childElement,
  childElements,
  parseXmlTree,
  textContent,
  type XmlElement,
} from '../../../src/core/protocol/xml-tree.ts';
import { readAppModules } from '../../../src/server/apps/read-app-structure.ts';
import { readProfile } from '../../../src/server/apps/read-profile.ts';
import { demoApplication } from '../../../src/server/seed/demo-app.ts';
import { demoAppFiles } from '../../../src/server/seed/demo-app-files.ts';

const files = demoAppFiles();
const text = (path: string) => new TextDecoder().decode(files.get(path));
const tree = (path: string) => parseXmlTree(text(path), { file: path });
const doc = demoApplication();

function descendants(el: XmlElement, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of childElements(el)) {
    if (c.local === local) out.push(c);
    out.push(...descendants(c, local));
  }
  return out;
}

describe('the demo app as CommCare files', () => {
  it('holds the files an HQ build holds, every XML file well-formed', () => {
    expect([...files.keys()].sort()).toEqual([
      'default/app_strings.txt',
      'en/app_strings.txt',
      'fr/app_strings.txt',
      'media_suite.xml',
      'modules-0/forms-0.xml',
      'modules-0/forms-1.xml',
      'modules-0/forms-2.xml',
      'modules-1/forms-0.xml',
      'profile.ccpr',
      'suite.xml',
    ]);
    for (const p of files.keys())
      if (p.endsWith('.xml') || p.endsWith('.ccpr')) expect(() => tree(p)).not.toThrow();
    const profile = readProfile(files, 'demo');
    expect(profile).toEqual({
      uniqueId: doc.id,
      name: doc.name,
      version: doc.version,
      suitePaths: ['suite.xml', 'media_suite.xml'],
    });
  });

  it('agrees with the Application Structure API document: names, case types, xmlns, questions', () => {
    const modules = readAppModules(files, ['suite.xml', 'media_suite.xml'], 'demo');
    expect(modules.map((m) => m.name)).toEqual(doc.modules.map((m) => m.name));
    expect(modules.map((m) => m.case_type)).toEqual(doc.modules.map((m) => m.case_type));
    expect(modules[0]?.case_properties).toEqual(doc.modules[0]?.case_properties);
    doc.modules.forEach((m, mi) => {
      const parsed = modules[mi]!;
      expect(parsed.forms.map((f) => [f.xmlns, f.name, f.unique_id])).toEqual(
        m.forms.map((f) => [f.xmlns, f.name, f.unique_id]),
      );
      m.forms.forEach((f, fi) => {
        const got = parsed.forms[fi]!.questions;
        for (const q of f.questions) {
          const p = got.find((x) => x.value === q.value);
          expect(p, `${f.unique_id} ${q.value}`).toBeDefined();
          expect([p!.tag, p!.type, p!.label, p!.required ?? false]).toEqual([
            q.tag,
            q.type,
            q.label,
            q.required ?? false,
          ]);
          for (const [lang, label] of Object.entries(q.translations ?? {}))
            expect(p!.translations?.[lang]).toBe(label);
          expect(p!.options?.map((o) => [o.label, o.value])).toEqual(
            q.options?.map((o) => [o.label, o.value]),
          );
          for (const [i, o] of (q.options ?? []).entries())
            for (const [lang, label] of Object.entries(o.translations ?? {}))
              expect(p!.options?.[i]?.translations?.[lang]).toBe(label);
        }
      });
    });
  });

  it('writes the suite as HQ does: details, menus, commands, entries with instances and datums', () => {
    const suite = tree('suite.xml');
    expect(childElements(suite, 'detail').map((d) => attr(d, 'id'))).toEqual([
      'm0_case_short',
      'm0_case_long',
      'm1_case_short',
      'm1_case_long',
    ]);
    const short = childElements(suite, 'detail')[0]!;
    const fns = descendants(short, 'template').map((t) => attr(descendants(t, 'xpath')[0]!, 'function'));
    expect(fns).toContain('case_name');
    expect(fns).toContain('village');
    expect(fns).toContain('household_size');
    expect(fns.some((f) => f?.includes('format-date(date(') && f.includes('date_opened'))).toBe(true);
    expect(
      childElements(suite, 'menu').map((m) => [
        attr(m, 'id'),
        childElements(m, 'command').map((c) => attr(c, 'id')),
      ]),
    ).toEqual([
      ['m0', ['m0-f0', 'm0-f1', 'm0-f2']],
      ['m1', ['m1-f0']],
    ]);
    const entries = new Map(
      childElements(suite, 'entry').map((e) => [attr(childElement(e, 'command')!, 'id'), e] as const),
    );
    const datums = (id: string) => childElements(childElement(entries.get(id)!, 'session')!, 'datum');
    const instances = (id: string) => childElements(entries.get(id)!, 'instance').map((i) => attr(i, 'src'));
    expect(datums('m0-f0').map((d) => [attr(d, 'id'), attr(d, 'function')])).toEqual([
      ['case_id_new_household_0', 'uuid()'],
    ]);
    const select = datums('m0-f1')[0]!;
    expect([
      attr(select, 'id'),
      attr(select, 'nodeset'),
      attr(select, 'value'),
      attr(select, 'detail-select'),
      attr(select, 'detail-confirm'),
    ]).toEqual([
      'case_id',
      "instance('casedb')/casedb/case[@case_type='household'][@status='open']",
      './@case_id',
      'm0_case_short',
      'm0_case_long',
    ]);
    expect(instances('m0-f1')).toEqual(
      expect.arrayContaining(['jr://instance/casedb', 'jr://instance/session']),
    );
    expect(datums('m1-f0').map((d) => attr(d, 'id'))).toEqual(['parent_id', 'case_id_new_member_0']);
    const locales = childElements(suite, 'locale').map((l) => attr(l, 'language'));
    expect(locales).toEqual(['default', 'en', 'fr']);
  });

  it('gives every locale id the suite uses a string in each language', () => {
    const suite = tree('suite.xml');
    const ids = new Set(
      descendants(suite, 'locale')
        .map((l) => attr(l, 'id'))
        .filter((x) => x !== undefined),
    );
    expect(ids.size).toBeGreaterThan(20);
    for (const lang of ['default', 'en', 'fr']) {
      const keys = new Set(
        text(`${lang}/app_strings.txt`)
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => l.slice(0, l.indexOf('='))),
      );
      for (const id of ids) expect(keys.has(id!), `${lang} ${id}`).toBe(true);
    }
    expect(text('fr/app_strings.txt')).toContain('modules.m0=Ménages');
  });

  it('writes the XForms in HQ style: case block, meta, session and casedb instances, itext in en and fr', () => {
    const reg = tree('modules-0/forms-0.xml');
    const model = childElement(childElement(reg, 'head')!, 'model')!;
    const data = childElements(childElements(model, 'instance')[0]!)[0]!;
    expect([
      data.local,
      data.uri,
      attr(data, 'uiVersion'),
      attr(data, 'version'),
      attr(data, 'name'),
    ]).toEqual(['data', doc.modules[0]!.forms[0]!.xmlns, '1', '3', 'Register household']);
    const caseEl = childElement(data, 'case')!;
    expect(caseEl.uri).toBe('http://commcarehq.org/case/transaction/v2');
    expect(textContent(childElement(childElement(caseEl, 'create')!, 'case_type')!)).toBe('household');
    expect(childElements(childElement(data, 'meta')!).map((m) => m.local)).toEqual([
      'deviceID',
      'timeStart',
      'timeEnd',
      'username',
      'userID',
      'instanceID',
      'appVersion',
    ]);
    const binds = new Map(childElements(model, 'bind').map((b) => [attr(b, 'nodeset'), b]));
    expect(attr(binds.get('/data/case/@case_id')!, 'calculate')).toBe(
      "instance('commcaresession')/session/data/case_id_new_household_0",
    );
    expect(attr(binds.get('/data/case/@date_modified')!, 'jr:preload')).toBe('timestamp');
    expect(attr(binds.get('/data/case/@date_modified')!, 'jr:preloadParams')).toBe('end');
    expect(attr(binds.get('/data/case/@user_id')!, 'calculate')).toBe(
      "instance('commcaresession')/session/context/userid",
    );
    expect(attr(binds.get('/data/household_size')!, 'constraint')).toBe('. >= 1 and . <= 30');
    expect(attr(binds.get('/data/household_size')!, 'jr:constraintMsg')).toBe(
      "jr:itext('household_size-constraintMsg')",
    );
    const repeat = descendants(childElement(reg, 'body')!, 'repeat')[0]!;
    expect(attr(repeat, 'jr:count')).toBe('/data/household_size');
    expect(descendants(reg, 'output').length).toBeGreaterThan(0);

    const follow = tree('modules-0/forms-1.xml');
    const fModel = childElement(childElement(follow, 'head')!, 'model')!;
    expect(childElements(fModel, 'instance').map((i) => attr(i, 'id'))).toEqual(
      expect.arrayContaining(['casedb', 'commcaresession', 'item-list:village']),
    );
    const setvalues = childElements(fModel, 'setvalue');
    expect(
      setvalues.some(
        (s) =>
          attr(s, 'event') === 'xforms-ready' &&
          attr(s, 'value') ===
            "instance('casedb')/casedb/case[@case_id = instance('commcaresession')/session/data/case_id]/village",
      ),
    ).toBe(true);
    expect(
      childElements(fModel, 'bind').some(
        (b) => attr(b, 'nodeset') === '/data/case/update' && attr(b, 'relevant'),
      ),
    ).toBe(true);

    const member = tree('modules-1/forms-0.xml');
    const parentBind = descendants(member, 'bind').find(
      (b) => attr(b, 'nodeset') === '/data/case/index/parent',
    );
    expect(attr(parentBind!, 'calculate')).toBe("instance('commcaresession')/session/data/parent_id");

    // Every itext id has a value in both languages, and every jr:itext reference resolves.
    for (const path of [
      'modules-0/forms-0.xml',
      'modules-0/forms-1.xml',
      'modules-0/forms-2.xml',
      'modules-1/forms-0.xml',
    ]) {
      const form = tree(path);
      const translations = descendants(form, 'translation');
      expect(translations.map((t) => attr(t, 'lang'))).toEqual(['en', 'fr']);
      const idsOf = (t: XmlElement) => childElements(t, 'text').map((x) => attr(x, 'id'));
      expect(idsOf(translations[1]!)).toEqual(idsOf(translations[0]!));
      const refs = [...text(path).matchAll(/jr:itext\('([^']+)'\)/g)].map((m) => m[1]);
      for (const r of refs) expect(idsOf(translations[0]!), `${path} ${r}`).toContain(r);
    }
  });
});
