import type { DepRef } from '../form-def.ts';
import type { Step, XPathExpr } from '../xpath/xpath-ast.ts';
import type { CompiledXPath } from '../xpath/xpath-types.ts';
import { joinPath, resolveDependency, splitPath } from './generic-path.ts';

/**
 * The generic primary-instance paths an expression reads, evaluated for nodes at
 * `contextPath`. A relative path inside a predicate is relative to the nodes the predicate
 * filters, not to the expression's context: in
 * `instance('groups')/root/group[count(../team) > 0]` the `../team` is in the fixture and
 * is no dependency, and in `/data/rep[x = 1]/y` the `x` is `/data/rep/x`. `current()`
 * always names the context node. (The evaluator's `references()` lists predicate paths as
 * written; resolving them against the context made JavaRosa-valid forms look cyclic, e.g.
 * commcare-core's trigger_and_current_tests.xml.)
 */
export function collectDependencies(expr: CompiledXPath, contextPath: string): DepRef[] {
  const ast = (expr as { ast?: XPathExpr }).ast;
  const out: DepRef[] = [];
  const seen = new Set<string>();
  const add = (d: DepRef): void => {
    const key = `${d.prefix ? '*' : ''}${d.path}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(d);
  };
  if (ast === undefined) {
    // An evaluator without an inspectable tree: fall back to its own list.
    for (const r of expr.references()) {
      const d = resolveDependency(r, contextPath);
      if (d !== undefined) add(d);
    }
    return out;
  }
  walk(ast, splitPath(contextPath), splitPath(contextPath), add);
  return out;
}

/** `ctx` is where relative paths start (null inside another instance); `top` is current(). */
function walk(e: XPathExpr, ctx: string[] | null, top: string[], add: (d: DepRef) => void): void {
  switch (e.type) {
    case 'number':
    case 'string':
    case 'variable':
      return;
    case 'negate':
      walk(e.operand, ctx, top, add);
      return;
    case 'binary':
      walk(e.left, ctx, top, add);
      walk(e.right, ctx, top, add);
      return;
    case 'call':
      for (const a of e.args) walk(a, ctx, top, add);
      return;
    case 'filter':
      walk(e.base, ctx, top, add);
      for (const p of e.predicates) walk(p, null, top, add);
      return;
    case 'path': {
      let start: string[] | null;
      if (e.base === null) start = e.absolute ? [] : ctx;
      else if (e.base.type === 'call' && e.base.name === 'current' && e.base.args.length === 0) start = top;
      else {
        walk(e.base, ctx, top, add);
        start = null;
      }
      followSteps(e.steps, start === null ? null : [...start], top, add);
      return;
    }
  }
}

function followSteps(
  steps: readonly Step[],
  cur: string[] | null,
  top: string[],
  add: (d: DepRef) => void,
): void {
  const path = cur;
  let prefix = false;
  for (const s of steps) {
    if (path !== null && !prefix) {
      const t = s.test;
      if (s.axis === 'self' && t.kind === 'node') {
        // stays
      } else if (s.axis === 'parent' && t.kind === 'node') path.pop();
      else if ((s.axis === 'child' || s.axis === 'attribute') && t.kind === 'name')
        path.push(s.axis === 'attribute' ? `@${t.local}` : t.local);
      else prefix = true;
    }
    for (const p of s.predicates) walk(p, path === null || prefix ? null : [...path], top, add);
  }
  if (path !== null) add({ path: joinPath(path), prefix });
}
