import type { Step, XPathExpr } from './xpath-ast.ts';
import type { XPathReference } from './xpath-types.ts';

/**
 * The paths an expression reads, for the model's dependency graph (JavaRosa collects the
 * same in `XPathExpression.getReferences` / `Condition.getTriggers`): each path without
 * its predicates, plus every path inside predicates and function arguments.
 * `instance('id')/a/b` is reported with `instance: 'id'`; `current()/x` as relative.
 */
export function collectReferences(e: XPathExpr): XPathReference[] {
  const out: XPathReference[] = [];
  const seen = new Set<string>();
  const add = (r: XPathReference): void => {
    const key = `${r.instance ?? ''}|${r.absolute ? '/' : ''}${r.steps.join('/')}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(r);
  };
  walk(e, add);
  return out;
}

function stepText(s: Step): string {
  if (s.axis === 'self' && s.test.kind === 'node') return '.';
  if (s.axis === 'parent' && s.test.kind === 'node') return '..';
  const t = s.test;
  const test =
    t.kind === 'name'
      ? t.prefix === ''
        ? t.local
        : `${t.prefix}:${t.local}`
      : t.kind === 'any'
        ? '*'
        : `${t.kind}()`;
  if (s.axis === 'attribute') return `@${test}`;
  if (s.axis === 'child') return test;
  if (s.axis === 'descendant-or-self' && t.kind === 'node') return '';
  return `${s.axis}::${test}`;
}

function instanceId(e: XPathExpr): string | undefined {
  if (e.type === 'call' && e.name === 'instance' && e.args.length === 1) {
    const a = e.args[0];
    if (a !== undefined && a.type === 'string') return a.value;
  }
  return undefined;
}

function walk(e: XPathExpr, add: (r: XPathReference) => void): void {
  switch (e.type) {
    case 'number':
    case 'string':
    case 'variable':
      return;
    case 'negate':
      walk(e.operand, add);
      return;
    case 'binary':
      walk(e.left, add);
      walk(e.right, add);
      return;
    case 'call':
      for (const a of e.args) walk(a, add);
      return;
    case 'filter':
      walk(e.base, add);
      for (const p of e.predicates) walk(p, add);
      return;
    case 'path': {
      for (const s of e.steps) for (const p of s.predicates) walk(p, add);
      const steps = e.steps.map(stepText);
      if (e.base === null) {
        add({ instance: null, absolute: e.absolute, steps });
        return;
      }
      const id = instanceId(e.base);
      if (id !== undefined) {
        add({ instance: id, absolute: true, steps });
        return;
      }
      if (e.base.type === 'call' && e.base.name === 'current' && e.base.args.length === 0) {
        // current()/x reads relative to the node being evaluated.
        add({ instance: null, absolute: false, steps });
        return;
      }
      walk(e.base, add);
      return;
    }
  }
}
