import { describe, expect, it } from 'vitest';
import { XmlError } from '../../../../src/core/errors/xml-error.ts';
import { applyCaseBlock } from '../../../../src/core/protocol/casexml/apply-case-block.ts';
import type { CaseAction, CaseBlock, CaseRecord } from '../../../../src/core/protocol/casexml/case-types.ts';

const create = (over: Partial<{ caseType: string; caseName: string; ownerId: string }> = {}): CaseBlock => ({
  caseId: 'c1',
  dateModified: '2020-03-04T05:06:07.000Z',
  userId: 'u1',
  actions: [{ kind: 'create', caseType: 't', caseName: 'n', ownerId: 'o', ...over }],
});

function base(): CaseRecord {
  return applyCaseBlock(undefined, create()) as CaseRecord;
}

function rejects(existing: CaseRecord | undefined, block: CaseBlock, code: string, msg: RegExp): void {
  try {
    applyCaseBlock(existing, block);
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    expect((e as XmlError).code).toBe(code);
    expect((e as XmlError).message).toMatch(msg);
    expect((e as XmlError).caseId).toBe(block.caseId.trim() || undefined);
    return;
  }
  throw new Error('expected a rejection');
}

describe('applyCaseBlock (phone rules, core: CaseXmlParser.java)', () => {
  it('creates a case with date_opened from date_modified and the owner given', () => {
    expect(base()).toEqual({
      caseId: 'c1',
      caseType: 't',
      caseName: 'n',
      ownerId: 'o',
      closed: false,
      dateOpened: '2020-03-04',
      lastModified: '2020-03-04T05:06:07.000Z',
      userId: 'u1',
      externalId: '',
      properties: {},
      indices: [],
      attachments: [],
    });
  });

  it('falls back to the user_id attribute when owner_id is absent or empty', () => {
    expect(applyCaseBlock(undefined, create({ ownerId: '' }))?.ownerId).toBe('u1');
    const { ownerId: _o, ...noOwner } = create().actions[0] as Extract<CaseAction, { kind: 'create' }>;
    expect(applyCaseBlock(undefined, { ...create(), actions: [noOwner] })?.ownerId).toBe('u1');
    rejects(undefined, { caseId: 'c1', actions: [noOwner] }, 'case-invalid', /owner/);
  });

  it('a second create overwrites name, type and owner and keeps properties', () => {
    const c = applyCaseBlock(base(), { caseId: 'c1', actions: [{ kind: 'update', fields: [['p', '1']] }] });
    const d = applyCaseBlock(c, {
      caseId: 'c1',
      userId: 'u2',
      actions: [{ kind: 'create', caseType: 't2', caseName: 'n2', ownerId: 'o2' }],
    });
    expect(d).toMatchObject({
      caseType: 't2',
      caseName: 'n2',
      ownerId: 'o2',
      properties: { p: '1' },
      dateOpened: '2020-03-04',
      userId: 'u2',
    });
  });

  it('update maps case_type, case_name, owner_id, date_opened, external_id to fields; others are properties', () => {
    const c = applyCaseBlock(base(), {
      caseId: 'c1',
      actions: [
        {
          kind: 'update',
          fields: [
            ['case_type', 'T'],
            ['case_name', 'N'],
            ['owner_id', 'O'],
            ['date_opened', '2019-01-01'],
            ['external_id', 'E'],
            ['category', 'cat'],
            ['empty', ''],
          ],
        },
      ],
    });
    expect(c).toMatchObject({
      caseType: 'T',
      caseName: 'N',
      ownerId: 'O',
      dateOpened: '2019-01-01',
      externalId: 'E',
      properties: { category: 'cat', empty: '' },
    });
  });

  it('applies actions in document order within a block', () => {
    rejects(
      undefined,
      { caseId: 'c1', actions: [{ kind: 'update', fields: [['a', '1']] }, ...create().actions] },
      'case-not-found',
      /c1/,
    );
    const c = applyCaseBlock(undefined, {
      ...create(),
      actions: [...create().actions, { kind: 'close' }, { kind: 'update', fields: [['after', 'yes']] }],
    });
    expect(c).toMatchObject({ closed: true, properties: { after: 'yes' } });
  });

  it('update, close, index and attachment of an unknown case are case-not-found errors', () => {
    rejects(undefined, { caseId: 'x', actions: [{ kind: 'update', fields: [] }] }, 'case-not-found', /x/);
    rejects(undefined, { caseId: 'x', actions: [{ kind: 'close' }] }, 'case-not-found', /x/);
    rejects(undefined, { caseId: 'x', actions: [{ kind: 'index', entries: [] }] }, 'case-not-found', /x/);
    rejects(
      undefined,
      { caseId: 'x', actions: [{ kind: 'attachment', entries: [] }] },
      'case-not-found',
      /x/,
    );
  });

  it('rejects an empty case_id, a create without case_name or case_type, and over-long fields', () => {
    rejects(undefined, { ...create(), caseId: '  ' }, 'case-invalid', /case_id/);
    const { caseName: _n, ...noName } = create().actions[0] as Extract<CaseAction, { kind: 'create' }>;
    rejects(undefined, { ...create(), actions: [noName] }, 'case-invalid', /case_name/);
    const { caseType: _t, ...noType } = create().actions[0] as Extract<CaseAction, { kind: 'create' }>;
    rejects(undefined, { ...create(), actions: [noType] }, 'case-invalid', /case_type/);
    const long = 'x'.repeat(256);
    rejects(undefined, create({ caseName: long }), 'case-invalid', /case_name.*255/);
    rejects(undefined, create({ caseType: long }), 'case-invalid', /case_type/);
    rejects(undefined, create({ ownerId: long }), 'case-invalid', /owner_id/);
    rejects(
      base(),
      { caseId: 'c1', actions: [{ kind: 'update', fields: [['external_id', long]] }] },
      'case-invalid',
      /external_id/,
    );
    // 255 exactly is fine, and an empty case_name is accepted (commcare-core checks for null only).
    expect(applyCaseBlock(undefined, create({ caseName: 'x'.repeat(255) }))?.caseName).toHaveLength(255);
    expect(applyCaseBlock(undefined, create({ caseName: '' }))?.caseName).toBe('');
    // Long property values are not limited.
    expect(
      applyCaseBlock(base(), { caseId: 'c1', actions: [{ kind: 'update', fields: [['p', long]] }] })
        ?.properties.p,
    ).toBe(long);
  });

  it('indices: missing relationship is child, empty text removes, same identifier replaces', () => {
    let c = applyCaseBlock(base(), {
      caseId: 'c1',
      actions: [
        {
          kind: 'index',
          entries: [
            { identifier: 'parent', caseType: 'p', target: 'P' },
            { identifier: 'host', caseType: 'h', target: 'H', relationship: 'extension' },
          ],
        },
      ],
    });
    expect(c?.indices).toEqual([
      { identifier: 'parent', caseType: 'p', caseId: 'P', relationship: 'child' },
      { identifier: 'host', caseType: 'h', caseId: 'H', relationship: 'extension' },
    ]);
    c = applyCaseBlock(c, {
      caseId: 'c1',
      actions: [
        {
          kind: 'index',
          entries: [
            { identifier: 'parent', caseType: 'p2', target: 'P2', relationship: 'child' },
            { identifier: 'host', caseType: '', target: '' },
            { identifier: 'never', caseType: '', target: '' },
          ],
        },
      ],
    });
    expect(c?.indices).toEqual([
      { identifier: 'parent', caseType: 'p2', caseId: 'P2', relationship: 'child' },
    ]);
  });

  it('rejects a self index and relationship=""; keeps any other relationship as given', () => {
    const idx = (target: string, relationship?: string): CaseBlock => ({
      caseId: 'c1',
      actions: [
        {
          kind: 'index',
          entries: [
            {
              identifier: 'i',
              caseType: 't',
              target,
              ...(relationship === undefined ? {} : { relationship }),
            },
          ],
        },
      ],
    });
    rejects(base(), idx('c1'), 'case-invalid', /itself/);
    rejects(base(), idx('P', ''), 'case-invalid', /empty relationship/);
    expect(applyCaseBlock(base(), idx('P', 'cousin'))?.indices).toEqual([
      { identifier: 'i', caseType: 't', caseId: 'P', relationship: 'cousin' },
    ]);
  });

  it('records attachments and removes one when both src and from are absent', () => {
    let c = applyCaseBlock(base(), {
      caseId: 'c1',
      actions: [
        {
          kind: 'attachment',
          entries: [
            { name: 'photo', src: 'a.jpg', from: 'local', fileName: 'me.jpg' },
            { name: 'doc', src: 'b.pdf', from: 'remote' },
          ],
        },
      ],
    });
    expect(c?.attachments).toEqual([
      { name: 'photo', src: 'a.jpg', from: 'local', fileName: 'me.jpg' },
      { name: 'doc', src: 'b.pdf', from: 'remote' },
    ]);
    c = applyCaseBlock(c, { caseId: 'c1', actions: [{ kind: 'attachment', entries: [{ name: 'photo' }] }] });
    expect(c?.attachments).toEqual([{ name: 'doc', src: 'b.pdf', from: 'remote' }]);
  });

  it('does not mutate the stored record', () => {
    const b = base();
    const snapshot = structuredClone(b);
    applyCaseBlock(b, {
      caseId: 'c1',
      actions: [
        { kind: 'update', fields: [['p', '1']] },
        { kind: 'index', entries: [{ identifier: 'x', caseType: 't', target: 'X' }] },
        { kind: 'close' },
      ],
    });
    expect(b).toEqual(snapshot);
  });
});
