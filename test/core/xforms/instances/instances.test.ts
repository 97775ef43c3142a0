import { describe, expect, it } from 'vitest';
import type { CaseRecord } from '../../../../src/core/protocol/casexml/case-types.ts';
import { buildCaseDbInstance } from '../../../../src/core/xforms/instances/build-casedb-instance.ts';
import { buildFixtureInstance } from '../../../../src/core/xforms/instances/build-fixture-instance.ts';
import { buildSessionInstance } from '../../../../src/core/xforms/instances/build-session-instance.ts';
import { resolveInstanceSrc } from '../../../../src/core/xforms/instances/resolve-instance-src.ts';
import type { InstanceNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import { compileXPath } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import type { XPathEnvironment } from '../../../../src/core/xforms/xpath/xpath-types.ts';

function kase(i: number, extra: Partial<CaseRecord> = {}): CaseRecord {
  return {
    caseId: `case-${i}`,
    caseType: i % 2 === 0 ? 'household' : 'member',
    caseName: `Name ${i}`,
    ownerId: 'owner-1',
    closed: i % 10 === 0,
    dateOpened: '2026-01-02T10:00:00.000Z',
    lastModified: '2026-03-04T11:12:13.000Z',
    userId: 'user-1',
    externalId: `ext-${i}`,
    properties: { village: `v${i % 7}`, age: String(i) },
    indices:
      i % 2 === 1
        ? [{ identifier: 'parent', caseType: 'household', caseId: `case-${i - 1}`, relationship: 'child' }]
        : [],
    attachments: [],
    ...extra,
  };
}

function evalIn(
  doc: InstanceNode,
  id: string,
  xpath: string,
  others: Record<string, InstanceNode> = {},
): string {
  const map: Record<string, InstanceNode> = { [id]: doc, ...others };
  const env: XPathEnvironment = {
    instance: (x) => map[x],
    now: () => new Date(0),
    random: () => 0,
    uuid: () => 'u',
  };
  return compileXPath(xpath).evaluateString({ node: doc, position: 1, size: 1, env });
}

describe('buildCaseDbInstance', () => {
  it('lays cases out as the phone casedb (CaseChildElement): attributes, case fields, properties, index', () => {
    const db = buildCaseDbInstance([kase(0), kase(1)]);
    const c = db.children[0]?.children[1];
    expect(c?.name).toBe('case');
    expect(c?.attributes.map((a) => [a.name, a.value])).toEqual([
      ['case_id', 'case-1'],
      ['case_type', 'member'],
      ['status', 'open'],
      ['owner_id', 'owner-1'],
      ['external_id', 'ext-1'],
    ]);
    expect(c?.children.map((n) => n.name)).toEqual([
      'case_name',
      'date_opened',
      'last_modified',
      'village',
      'age',
      'index',
      'attachment',
    ]);
    const q = (x: string) => evalIn(db, 'casedb', x);
    expect(q("instance('casedb')/casedb/case[@case_id='case-1']/case_name")).toBe('Name 1');
    expect(q("instance('casedb')/casedb/case[@case_id='case-1']/date_opened")).toBe('2026-01-02');
    expect(q("instance('casedb')/casedb/case[@case_id='case-1']/index/parent")).toBe('case-0');
    expect(q("instance('casedb')/casedb/case[@case_id='case-1']/index/parent/@relationship")).toBe('child');
    expect(q("instance('casedb')/casedb/case[@case_id='case-0']/@status")).toBe('closed');
    expect(q("count(instance('casedb')/casedb/case[@case_type='member'][index/parent='case-0'])")).toBe('1');
  });

  it('builds 10,000 cases, each one queryable (timing: bench/xform-engine.bench.ts)', () => {
    const cases = Array.from({ length: 10_000 }, (_, i) => kase(i));
    const db = buildCaseDbInstance(cases);
    expect(db.children[0]?.children).toHaveLength(10_000);
    expect(evalIn(db, 'casedb', "instance('casedb')/casedb/case[@case_id='case-9999']/village")).toBe('v3');
    expect(evalIn(db, 'casedb', "count(instance('casedb')/casedb/case[@status='closed'])")).toBe('1000');
  });
});

describe('buildSessionInstance', () => {
  it('lays out data, context and user data as SessionInstanceBuilder', () => {
    const doc = buildSessionInstance({
      data: { case_id: 'c1' },
      context: { deviceid: 'd', appversion: 'v', username: 'u', userid: 'i' },
      user: { data: { district: 'north' } },
    });
    const q = (x: string) => evalIn(doc, 'commcaresession', x);
    expect(q("instance('commcaresession')/session/data/case_id")).toBe('c1');
    expect(q("instance('commcaresession')/session/context/userid")).toBe('i');
    expect(q("instance('commcaresession')/session/context/deviceid")).toBe('d');
    expect(q("instance('commcaresession')/session/user/data/district")).toBe('north');
  });
});

describe('buildFixtureInstance', () => {
  it('turns a stored fixture root into an instance document, without namespace declarations', () => {
    const doc = buildFixtureInstance({
      name: 'village_list',
      attributes: { xmlns: 'x' },
      text: '',
      children: [
        {
          name: 'village',
          attributes: { id: 'v1' },
          text: '',
          children: [{ name: 'name', attributes: {}, text: 'Riverside', children: [] }],
        },
      ],
    });
    expect(evalIn(doc, 'v', "instance('v')/village_list/village[@id='v1']/name")).toBe('Riverside');
    expect(doc.children[0]?.attributes).toHaveLength(0);
  });
});

describe('resolveInstanceSrc', () => {
  it.each([
    ['jr://instance/casedb', { kind: 'casedb' }],
    ['jr://instance/session', { kind: 'session' }],
    ['jr://instance/ledgerdb', { kind: 'ledgerdb' }],
    ['jr://fixture/item-list:village', { kind: 'fixture', id: 'item-list:village' }],
    ['jr://fixture/user-groups', { kind: 'fixture', id: 'user-groups' }],
    ['jr://instance/search-input/results', { kind: 'search-input', id: 'results' }],
    ['jr://file/x.xml', { kind: 'unknown', src: 'jr://file/x.xml' }],
  ])('%s', (src, expected) => {
    expect(resolveInstanceSrc(src)).toEqual(expected);
  });
});
