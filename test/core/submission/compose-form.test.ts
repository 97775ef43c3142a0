import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeForm, xsdDateTime } from '../../../src/core/protocol/submission/compose-form.ts';
import type { FormMeta, FormSpec } from '../../../src/core/protocol/submission/form-types.ts';
import {
  closeCaseForm,
  GENERIC_XMLNS,
  registerCaseForm,
  updateCaseForm,
} from '../../../src/core/protocol/submission/generic-forms.ts';
import { readForm } from '../../../src/core/protocol/submission/read-form.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');
const hq = resolve(repoRoot, '../shared/samples/commcare-hq');
const sample = (p: string) => readFileSync(resolve(hq, p), 'utf8');

const meta: FormMeta = {
  deviceId: 'dev-1',
  timeStart: '2026-01-02T03:04:00.000Z',
  timeEnd: '2026-01-02T03:05:06.789Z',
  username: 'worker1',
  userId: 'u-1',
  instanceId: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
  appVersion: 'fieldsim 0.1.0',
};

const spec: FormSpec = {
  xmlns: 'http://openrosa.org/formdesigner/ABC',
  name: 'Visit',
  version: '7',
  uiVersion: '1',
  meta,
  children: [
    { name: 'q1', value: 'a < b & "c"' },
    {
      name: 'household',
      children: [
        { name: 'size', value: '4' },
        {
          caseBlock: {
            caseId: 'hh-1',
            actions: [{ kind: 'create', caseType: 'household', caseName: 'Dlamini' }],
          },
        },
      ],
    },
    {
      name: 'member',
      children: [
        { name: 'name', value: 'A' },
        {
          caseBlock: {
            caseId: 'm-1',
            actions: [
              { kind: 'create', caseType: 'member', caseName: 'A', ownerId: 'grp' },
              { kind: 'update', fields: [['age', '30']] },
              { kind: 'index', entries: [{ identifier: 'parent', caseType: 'household', target: 'hh-1' }] },
            ],
          },
        },
      ],
    },
    { name: 'member', children: [{ name: 'name', value: 'B' }] },
    {
      caseBlock: {
        caseId: 'old-1',
        dateModified: '2020-01-01T00:00:00Z',
        userId: 'other',
        actions: [{ kind: 'close' }],
      },
    },
  ],
};

describe('composeForm', () => {
  it('writes the HQ layout, byte for byte', () => {
    const f = composeForm(spec);
    expect(f.xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>' +
        '<data xmlns="http://openrosa.org/formdesigner/ABC" name="Visit" version="7" uiVersion="1">' +
        '<q1>a &lt; b &amp; "c"</q1>' +
        '<household><size>4</size>' +
        '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="hh-1" date_modified="2026-01-02T03:05:06.789Z" user_id="u-1">' +
        '<create><case_type>household</case_type><case_name>Dlamini</case_name><owner_id>u-1</owner_id></create></case></household>' +
        '<member><name>A</name>' +
        '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="m-1" date_modified="2026-01-02T03:05:06.789Z" user_id="u-1">' +
        '<create><case_type>member</case_type><case_name>A</case_name><owner_id>grp</owner_id></create>' +
        '<update><age>30</age></update><index><parent case_type="household">hh-1</parent></index></case></member>' +
        '<member><name>B</name></member>' +
        '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="old-1" date_modified="2020-01-01T00:00:00Z" user_id="other"><close/></case>' +
        '<orx:meta xmlns:orx="http://openrosa.org/jr/xforms" xmlns:cc="http://commcarehq.org/xforms">' +
        '<orx:deviceID>dev-1</orx:deviceID><orx:timeStart>2026-01-02T03:04:00.000Z</orx:timeStart>' +
        '<orx:timeEnd>2026-01-02T03:05:06.789Z</orx:timeEnd><orx:username>worker1</orx:username>' +
        '<orx:userID>u-1</orx:userID><orx:instanceID>1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed</orx:instanceID>' +
        '<cc:appVersion>fieldsim 0.1.0</cc:appVersion><orx:drift/></orx:meta></data>',
    );
    expect(composeForm(structuredClone(spec)).xml).toBe(f.xml);
    expect(f.size).toBe(new TextEncoder().encode(f.xml).length);
    expect(f.instanceId).toBe(meta.instanceId);
    expect(f.caseBlocks.map((b) => b.caseId)).toEqual(['hh-1', 'm-1', 'old-1']);
  });

  it('reads back as HQ reads it: meta fields, case blocks at any depth with the meta bindings', () => {
    const r = readForm(composeForm(spec).xml);
    expect(r.xmlns).toBe(spec.xmlns);
    expect(r.rootName).toBe('data');
    expect(r.attributes).toEqual({ name: 'Visit', version: '7', uiVersion: '1' });
    expect(r.meta).toEqual({
      deviceID: 'dev-1',
      timeStart: meta.timeStart,
      timeEnd: meta.timeEnd,
      username: 'worker1',
      userID: 'u-1',
      instanceID: meta.instanceId,
      appVersion: 'fieldsim 0.1.0',
      drift: '',
    });
    expect(r.caseBlocks.map((b) => [b.caseId, b.path, b.version, b.dateModified, b.userId])).toEqual([
      ['hh-1', 'data/household/case', 'v2', meta.timeEnd, 'u-1'],
      ['m-1', 'data/member/case', 'v2', meta.timeEnd, 'u-1'],
      ['old-1', 'data/case', 'v2', '2020-01-01T00:00:00Z', 'other'],
    ]);
    expect(r.caseBlocks[1]?.actions).toEqual([
      { kind: 'create', caseType: 'member', caseName: 'A', ownerId: 'grp' },
      { kind: 'update', fields: [['age', '30']] },
      { kind: 'index', entries: [{ identifier: 'parent', caseType: 'household', target: 'hh-1' }] },
    ]);
  });

  it("round-trips HQ's non-BMP sample text (emoji, ZWJ sequences, U+100002)", () => {
    const src = readForm(sample('corehq/apps/receiverwrapper/tests/data/form_data_with_non_bmp_chars.xml'));
    const block = src.caseBlocks[0]!;
    const name = (block.actions[0] as { caseName: string }).caseName;
    expect(name).toBe('👕 👖 👔 👗 👙');
    const text = readFileSync(
      resolve(hq, 'corehq/apps/receiverwrapper/tests/data/form_data_with_non_bmp_chars.xml'),
      'utf8',
    );
    const big = /<what_is_your_name>([\s\S]*)<\/what_is_your_name>/.exec(text)![1]!;
    expect(big).toContain('\u{100002}');
    const f = composeForm({
      xmlns: 'http://commcarehq.org/test/submit',
      meta,
      children: [
        { name: 'what_is_your_name', value: big },
        { caseBlock: { caseId: block.caseId, actions: [{ kind: 'create', caseType: 't', caseName: name }] } },
      ],
    });
    const back = readForm(f.xml);
    expect((back.caseBlocks[0]!.actions[0] as { caseName: string }).caseName).toBe(name);
    expect(f.xml).toContain(big.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(f.size).toBe(new TextEncoder().encode(f.xml).length);
  });

  it('drops characters XML 1.0 cannot carry instead of writing unparseable output', () => {
    const f = composeForm({
      xmlns: 'x:y',
      meta,
      children: [{ name: 'q', value: 'a\u0001b\u0008c\uD800d\tok' }],
    });
    expect(f.xml).toContain('<q>abcd\tok</q>');
    expect(() => readForm(f.xml)).not.toThrow();
  });

  it('ODK mode: uuid: prefix, root id and version', () => {
    const f = composeForm({
      xmlns: 'http://opendatakit.org/x',
      formId: 'visit',
      version: '2024',
      mode: 'odk',
      meta,
      children: [],
    });
    expect(f.instanceId).toBe(`uuid:${meta.instanceId}`);
    const r = readForm(f.xml);
    expect(r.attributes).toEqual({ id: 'visit', version: '2024' });
    expect(r.meta?.instanceID).toBe(`uuid:${meta.instanceId}`);
  });

  it('rejects what HQ or XML would reject, with typed errors', () => {
    expect(() => composeForm({ ...spec, xmlns: '' })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() => composeForm({ ...spec, children: [{ name: 'bad name', value: '' }] })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() => composeForm({ ...spec, children: [{ name: 'meta', value: '' }] })).toThrow();
    expect(() =>
      composeForm({
        ...spec,
        children: [{ caseBlock: { caseId: 'c', actions: [{ kind: 'update', fields: [['1x', 'v']] }] } }],
      }),
    ).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('xsdDateTime writes UTC with milliseconds', () => {
    expect(xsdDateTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02T03:04:05.006Z');
  });
});

describe("readForm on HQ's own forms", () => {
  it('case_in_repeats: blocks inside repeats and at the top, meta last', () => {
    const r = readForm(
      sample('corehq/ex-submodules/casexml/apps/case/tests/data/multicase/case_in_repeats.xml'),
    );
    expect(r.caseBlocks.map((b) => [b.caseId, b.path])).toEqual([
      ['32337c03-2b73-497f-ab18-2b587f8c21df', 'data/child_repeat/case'],
      ['581b0506-7c94-4af5-ac67-f934566d5418', 'data/child_repeat/case'],
      ['CMYOSI95QCED3ZWIP9ZK1QNQ6', 'data/case'],
    ]);
    expect(r.meta).toBeDefined();
  });

  it('mixed_cases: four blocks at four depths', () => {
    const r = readForm(sample('corehq/ex-submodules/casexml/apps/case/tests/data/multicase/mixed_cases.xml'));
    expect(r.caseBlocks.map((b) => b.path)).toEqual([
      'data/case',
      'data/sometag/case',
      'data/anothertag/case',
      'data/anothertag/nested/case',
    ]);
  });

  it('namespace_in_meta: prefixed meta and prefixed case block', () => {
    const r = readForm(sample('corehq/apps/receiverwrapper/tests/data/namespace_in_meta.xml'));
    expect(r.xmlns).toBe('http://bihar.commcarehq.org/pregnancy/new');
    expect(r.meta).toMatchObject({
      deviceID: '7FU5S85W2ZVYKDWW6HXM0BSZW',
      instanceID: '801b5a2f-42f0-4394-97b9-fd0622ff6448',
      userID: '6046f531e7c5bdb2cb59258a783c00b1',
      appVersion: expect.stringContaining('v1.4.0dev'),
    });
    expect(r.caseBlocks[0]).toMatchObject({ caseId: '4aaeeb3f-87d6-4c21-90f5-4d2aabdff589', version: 'v2' });
    expect(r.caseBlocks[0]?.actions[0]).toEqual({
      kind: 'create',
      caseType: 'cc_bihar_pregnancy',
      ownerId: '6046f531e7c5bdb2cb59258a78bba32d',
      caseName: 'TALIA',
    });
  });

  it('named_namespace: legacy <Meta> names normalised as scrub_meta does', () => {
    const r = readForm(sample('corehq/ex-submodules/casexml/apps/case/tests/data/v2/named_namespace.xml'));
    expect(r.meta).toMatchObject({
      deviceID: 'ZQKXWCOE9S4C9K3BTENGJFWTJ',
      timeStart: '2011-12-27T21:07:34.445-05:00',
      instanceID: '05f9c90f-8e2e-4e3f-b392-002058c46b00',
      userID: 'd5ce3a980b5b69e793445ec0e3b2138e',
    });
  });

  it('form_with_case, bare_form, device_log', () => {
    const withCase = readForm(sample('corehq/apps/receiverwrapper/tests/data/form_with_case.xml'));
    expect(withCase.meta?.instanceID).toBeTruthy();
    expect(withCase.caseBlocks.map((b) => b.caseId)).toEqual(['ad38211be256653bceac8e2156475667']);
    const bare = readForm(sample('corehq/apps/receiverwrapper/tests/data/bare_form.xml'));
    expect(bare.xmlns).toBe('http://commcarehq.org/test/submit');
    expect(bare.meta).toBeUndefined();
    const log = readForm(sample('corehq/apps/receiverwrapper/tests/data/device_log.xml'));
    expect(log.xmlns).toBe('http://code.javarosa.org/devicereport');
    expect(log.caseBlocks).toEqual([]);
  });

  it('invalid_form_xml is a typed xml-malformed error', () => {
    expect(() =>
      readForm(sample('corehq/apps/receiverwrapper/tests/data/invalid_form_xml.xml')),
    ).toThrowError(expect.objectContaining({ code: 'xml-malformed' }));
  });

  it('a composed copy of case_in_repeats reads the same way as the original', () => {
    const orig = readForm(
      sample('corehq/ex-submodules/casexml/apps/case/tests/data/multicase/case_in_repeats.xml'),
    );
    const children = orig.caseBlocks.map((b) => {
      const node = {
        caseBlock: {
          caseId: b.caseId,
          actions: [{ kind: 'update' as const, fields: [['p', '1']] as [string, string][] }],
        },
      };
      return b.path === 'data/case'
        ? node
        : { name: 'child_repeat', children: [{ name: 'outcome', value: '1' }, node] };
    });
    const mine = readForm(composeForm({ xmlns: orig.xmlns, name: 'New Form1', meta, children }).xml);
    expect(mine.caseBlocks.map((b) => [b.caseId, b.path])).toEqual(
      orig.caseBlocks.map((b) => [b.caseId, b.path]),
    );
  });
});

describe('generic forms', () => {
  it('register household with a parent index', () => {
    const d = registerCaseForm({
      caseId: 'c1',
      caseType: 'member',
      caseName: 'Thandi',
      properties: { age: '12' },
      parent: { caseId: 'hh-1', caseType: 'household' },
    });
    expect(d.xmlns).toBe(GENERIC_XMLNS.register);
    const f = composeForm({ ...d, meta });
    const r = readForm(f.xml);
    expect(r.caseBlocks[0]?.actions).toEqual([
      { kind: 'create', caseType: 'member', caseName: 'Thandi', ownerId: 'u-1' },
      { kind: 'update', fields: [['age', '12']] },
      { kind: 'index', entries: [{ identifier: 'parent', caseType: 'household', target: 'hh-1' }] },
    ]);
  });

  it('update and close', () => {
    const u = readForm(
      composeForm({ ...updateCaseForm({ caseId: 'c1', properties: { visits: '3' } }), meta }).xml,
    );
    expect(u.caseBlocks[0]?.actions).toEqual([{ kind: 'update', fields: [['visits', '3']] }]);
    const c = readForm(
      composeForm({ ...closeCaseForm({ caseId: 'c1', properties: { reason: 'moved' } }), meta }).xml,
    );
    expect(c.caseBlocks[0]?.actions).toEqual([
      { kind: 'update', fields: [['reason', 'moved']] },
      { kind: 'close' },
    ]);
    expect(() => updateCaseForm({ caseId: 'c1', properties: {} })).toThrow();
  });
});
