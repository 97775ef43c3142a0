import { describe, expect, it, vi } from 'vitest';
import { InstanceNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import { compileXPath } from '../../../../src/core/xforms/xpath/compile-xpath.ts';
import * as order from '../../../../src/core/xforms/xpath/document-order.ts';
import type { XPathEvalContext } from '../../../../src/core/xforms/xpath/xpath-types.ts';
import { makeEnv } from './xpath-test-helpers.ts';

vi.mock('../../../../src/core/xforms/xpath/document-order.ts', async (importOriginal) => {
  const real = await importOriginal<typeof order>();
  return { ...real, sortDocumentOrder: vi.fn(real.sortDocumentOrder) };
});

function el(parent: InstanceNode, name: string, value = ''): InstanceNode {
  const n = parent.appendChild(new InstanceNode('element', name));
  n.value = value;
  return n;
}

function setup(cases: number): XPathEvalContext {
  const form = InstanceNode.document();
  const data = el(form, 'data');
  el(data, 'case_id', `case-${cases - 1}`);
  const casedb = InstanceNode.document();
  const root = el(casedb, 'casedb');
  for (let i = 0; i < cases; i++) {
    const c = el(root, 'case');
    c.setAttribute('case_id', `case-${i}`);
    el(c, 'name', `Name ${i}`);
  }
  return { node: data, position: 1, size: 1, env: makeEnv({ casedb }) };
}

const LOOKUP = "instance('casedb')/casedb/case[@case_id = /data/case_id]/name";

describe('XPath performance shape', () => {
  it('a casedb lookup by id never sorts: child steps are already in document order', () => {
    const ctx = setup(5_000);
    const sort = vi.mocked(order.sortDocumentOrder);
    sort.mockClear();
    expect(compileXPath(LOOKUP).evaluateString(ctx)).toBe('Name 4999');
    expect(compileXPath("count(instance('casedb')/casedb/case[name != ''])").evaluate(ctx)).toBe(5_000);
    expect(sort).not.toHaveBeenCalled();
    // The spy does see sorts where they are needed: a union.
    compileXPath("count(instance('casedb')/casedb/case[1] | instance('casedb')/casedb/case[2])").evaluate(
      ctx,
    );
    expect(sort).toHaveBeenCalledTimes(1);
  });

  it('the lookup grows linearly with the number of cases', () => {
    const small = setup(2_000);
    const large = setup(40_000);
    const c = compileXPath(LOOKUP);
    const time = (ctx: XPathEvalContext, n: number): number => {
      const runs: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) c.evaluate(ctx);
        runs.push((performance.now() - t0) / n);
      }
      return runs.sort((a, b) => a - b)[2] as number;
    };
    time(small, 20); // warm up
    const ratio = time(large, 3) / time(small, 20);
    // 20x the cases: linear is ~20x, quadratic would be ~400x. Generous for a busy machine.
    expect(ratio).toBeLessThan(100);
  });
});
