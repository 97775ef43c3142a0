import { describe, expect, it } from 'vitest';
import { isFieldsimError } from '../../../../src/core/errors/fieldsim-error.ts';
import {
  computePurge,
  connectedComponents,
  type PurgeInput,
  type PurgeInputIndex,
} from '../../../../src/core/protocol/casexml/case-purge.ts';
import { readSample } from '../../../contract/samples.ts';

/**
 * The phone's purge oracle: core src/test/resources/case_relationship_tests.json, run the
 * way core: org/commcare/test/utilities/CasePurgeTest.java does it: cases in `owned` get
 * owner "user" (the only owner id), others none; `closed` cases are closed; `subcases`
 * are [child, parent] child indices and `extensions` [extension, host] extension indices.
 * Survivors must equal `outcome`, and for each survivor the connected component it sits
 * in must match `relation_outcome`.
 */
interface Scenario {
  name: string;
  cases?: string[];
  owned?: string[];
  closed?: string[];
  subcases?: [string, string][];
  extensions?: [string, string][];
  outcome: string[];
  relation_outcome?: { related_cases: string[] }[];
  skip?: unknown;
}

const scenarios = JSON.parse(readSample('commcare-core/case_relationship_tests.json')) as Scenario[];

function build(s: Scenario): Map<string, PurgeInput & { indices: PurgeInputIndex[] }> {
  const ids = new Set<string>([
    ...(s.cases ?? []),
    ...(s.owned ?? []),
    ...(s.closed ?? []),
    ...(s.subcases ?? []).flat(),
    ...(s.extensions ?? []).flat(),
  ]);
  const m = new Map<string, PurgeInput & { indices: PurgeInputIndex[] }>();
  for (const id of ids)
    m.set(id, {
      caseId: id,
      ownerId: s.owned?.includes(id) ? 'user' : '',
      closed: s.closed?.includes(id) ?? false,
      indices: [],
    });
  for (const [c, p] of s.subcases ?? []) m.get(c)?.indices.push({ caseId: p, relationship: 'child' });
  for (const [e, h] of s.extensions ?? []) m.get(e)?.indices.push({ caseId: h, relationship: 'extension' });
  return m;
}

describe('case purge: case_relationship_tests.json', () => {
  it('has the 46 scenarios the README promises', () => {
    expect(scenarios).toHaveLength(46);
  });

  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    const cases = build(s);
    const { removed } = computePurge(cases.values(), new Set(['user']));
    const gone = new Set(removed);
    const survivors = [...cases.keys()].filter((id) => !gone.has(id)).sort();
    expect(survivors).toEqual([...s.outcome].sort());
    if (s.relation_outcome !== undefined) {
      const comps = connectedComponents(survivors.map((id) => cases.get(id) as PurgeInput));
      const perSurvivor = survivors
        .map((id) => comps.find((c) => c.includes(id)) ?? [])
        .map((c) => c.join(','));
      const expected = s.relation_outcome.map((r) => [...r.related_cases].sort().join(','));
      expect(perSurvivor.sort()).toEqual(expected.sort());
    }
  });
});

describe('case purge: graph rules', () => {
  const c = (
    caseId: string,
    ownerId: string,
    indices: PurgeInputIndex[] = [],
    closed = false,
  ): PurgeInput => ({
    caseId,
    ownerId,
    closed,
    indices,
  });

  it('removes cases indexing a missing case, transitively, and keeps their parents', () => {
    const r = computePurge(
      [
        c('parent', 'u'),
        c('a', 'u', [
          { caseId: 'missing', relationship: 'child' },
          { caseId: 'parent', relationship: 'child' },
        ]),
        c('b', 'u', [{ caseId: 'a', relationship: 'extension' }]),
        c('c', 'u', [{ caseId: 'b', relationship: 'child' }]),
      ],
      new Set(['u']),
    );
    expect(r.missingTargetRemovals.sort()).toEqual(['a', 'b', 'c']);
    expect(r.removed.sort()).toEqual(['a', 'b', 'c']);
  });

  it('a cycle is an invalid-case-graph error', () => {
    let err: unknown;
    try {
      computePurge(
        [
          c('x', 'u', [{ caseId: 'y', relationship: 'extension' }]),
          c('y', 'u', [{ caseId: 'z', relationship: 'child' }]),
          c('z', 'u', [{ caseId: 'x', relationship: 'child' }]),
        ],
        new Set(['u']),
      );
    } catch (e) {
      err = e;
    }
    expect(isFieldsimError(err) && err.code === 'invalid-case-graph').toBe(true);
  });

  it('with no owner list every case counts as owned', () => {
    expect(computePurge([c('a', 'anyone'), c('b', 'x', [], true)], null).removed).toEqual(['b']);
  });

  it('handles 100k cases (90% with a parent) in linear time', () => {
    const list: PurgeInput[] = [];
    for (let i = 0; i < 10_000; i++) list.push(c(`h${i}`, i % 10 === 0 ? 'other' : 'u'));
    for (let i = 0; i < 90_000; i++)
      list.push(c(`m${i}`, 'u', [{ caseId: `h${i % 10_000}`, relationship: 'child' }]));
    const t0 = performance.now();
    const r = computePurge(list, new Set(['u']));
    expect(performance.now() - t0).toBeLessThan(2000);
    // Households owned by someone else survive as parents of live members.
    expect(r.removed).toEqual([]);
  });
});
