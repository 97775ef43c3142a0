import { describe, expect, it } from 'vitest';
import { XmlError } from '../../../../src/core/errors/xml-error.ts';
import { computePurge, type PurgeInput } from '../../../../src/core/protocol/casexml/case-purge.ts';

const c = (caseId: string, targets: string[]): PurgeInput => ({
  caseId,
  ownerId: 'u',
  closed: false,
  indices: targets.map((t) => ({ caseId: t, relationship: 'child' as const })),
});

function cycleError(cases: PurgeInput[]): XmlError {
  try {
    computePurge(cases, new Set(['u']));
  } catch (e) {
    if (e instanceof XmlError) return e;
    throw e;
  }
  throw new Error('expected invalid-case-graph');
}

describe("the restore's case graph error tells the worker what is wrong and which case", () => {
  it('two cases indexing each other: both named in index order, the case on the error', () => {
    const e = cycleError([c('head', []), c('a', ['b', 'head']), c('b', ['a'])]);
    expect(e.code).toBe('invalid-case-graph');
    expect(e.message).toMatch(/Cases index each other in a cycle: '(a' -> 'b' -> 'a|b' -> 'a' -> 'b)'/);
    expect(e.message).toContain('the case data on the server must be corrected');
    expect(['a', 'b']).toContain(e.caseId);
    expect(e.message).toContain(`fix case '${e.caseId}'`);
  });

  it('a longer cycle behind a case that merely points into it names only the cycle', () => {
    const e = cycleError([c('outside', ['x']), c('x', ['y']), c('y', ['z']), c('z', ['x'])]);
    const chain = /cycle: (.*)\. CommCare/.exec(e.message)?.[1] ?? '';
    const ids = chain.split(' -> ').map((s) => s.replaceAll("'", ''));
    expect(ids).toHaveLength(4);
    expect(ids[0]).toBe(ids[3]);
    expect(new Set(ids)).toEqual(new Set(['x', 'y', 'z']));
    // Index order: each case indexes the next one.
    const next: Record<string, string> = { x: 'y', y: 'z', z: 'x' };
    for (let k = 0; k < 3; k++) expect(next[ids[k] as string]).toBe(ids[k + 1]);
  });

  it('a case indexing itself', () => {
    const e = cycleError([c('self', ['self'])]);
    expect(e.message).toMatch(/^Case 'self' indexes itself\./);
    expect(e.caseId).toBe('self');
  });
});
