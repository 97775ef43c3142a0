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

  it('the lookup reads each case once, and the id to match once', () => {
    // Counting work instead of timing it: a shared test machine makes timings flaky.
    for (const n of [1_000, 10_000]) {
      const base = setup(n);
      const session = InstanceNode.document();
      el(el(session, 'session'), 'case_id', `case-${n - 1}`);
      const lookups = vi.fn((id: string) => (id === 'session' ? session : base.env.instance(id)));
      const ctx = { ...base, env: { ...base.env, instance: lookups } };
      const reads = vi.spyOn(InstanceNode.prototype, 'getAttribute');
      const expr = "instance('casedb')/casedb/case[@case_id = instance('session')/session/case_id]/name";
      expect(compileXPath(expr).evaluateString(ctx)).toBe(`Name ${n - 1}`);
      expect(reads).toHaveBeenCalledTimes(n);
      expect(lookups).toHaveBeenCalledTimes(2);
      reads.mockRestore();
    }
  });
});
