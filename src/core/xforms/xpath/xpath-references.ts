import type { Step, XPathExpr } from './xpath-ast.ts';
import type { XPathReference } from './xpath-types.ts';

/**
 * The paths an expression reads, for the model's dependency graph (JavaRosa collects the
 * same in `XPathExpression.getReferences` / `Condition.getTriggers`): each path without
 * its predicates, plus every path inside predicates and function arguments.
 *
 * A relative path inside a predicate is relative to the nodes the predicate filters, so it
 * is reported under that step: in `/data/rep[w = '']` the `w` is `/data/rep/w`, and in
 * `instance('casedb')/casedb/case[@case_id = x]` the `@case_id` is the casedb's. Only
 * predicates of filter expressions over computed node-sets (`(a | b)[w]`) leave their
 * relative paths as written. `current()/x` is relative to the context node;
 * `instance('id')/a/b` is reported with `instance: 'id'`.
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
  walk(e, CONTEXT, add);
  return out;
}

/** Where relative paths start: the evaluation context, a known path, or unknown nodes. */
type Anchor = XPathReference | typeof CONTEXT | typeof UNKNOWN;
const CONTEXT = Symbol('context');
const UNKNOWN = Symbol('unknown');

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

/** Appends steps to a path, folding `.` and a `..` that follows a plain name. */
function extend(base: readonly string[], more: readonly string[]): string[] {
  const out = [...base];
  for (const s of more) {
    if (s === '.' && out.length > 0) continue;
    const last = out[out.length - 1];
    if (
      s === '..' &&
      last !== undefined &&
      last !== '..' &&
      last !== '.' &&
      last !== '' &&
      !last.includes('::')
    ) {
      out.pop();
      continue;
    }
    out.push(s);
  }
  return out;
}

function resolve(anchor: XPathReference | typeof CONTEXT, steps: readonly string[]): XPathReference {
  if (anchor === CONTEXT) return { instance: null, absolute: false, steps: [...steps] };
  return { instance: anchor.instance, absolute: anchor.absolute, steps: extend(anchor.steps, steps) };
}

function instanceId(e: XPathExpr): string | undefined {
  if (e.type === 'call' && e.name === 'instance' && e.args.length === 1) {
    const a = e.args[0];
    if (a !== undefined && a.type === 'string') return a.value;
  }
  return undefined;
}

function walk(e: XPathExpr, anchor: Anchor, add: (r: XPathReference) => void): void {
  switch (e.type) {
    case 'number':
    case 'string':
    case 'variable':
      return;
    case 'negate':
      walk(e.operand, anchor, add);
      return;
    case 'binary':
      walk(e.left, anchor, add);
      walk(e.right, anchor, add);
      return;
    case 'call':
      for (const a of e.args) walk(a, anchor, add);
      return;
    case 'filter':
      walk(e.base, anchor, add);
      for (const p of e.predicates) walk(p, UNKNOWN, add);
      return;
    case 'path': {
      // The reference the path's steps extend, or UNKNOWN for computed node-sets.
      let start: XPathReference | typeof CONTEXT | typeof UNKNOWN;
      if (e.base === null) {
        if (e.absolute) start = { instance: null, absolute: true, steps: [] };
        else start = anchor === UNKNOWN ? UNKNOWN : anchor;
      } else {
        const id = instanceId(e.base);
        if (id !== undefined) {
          start = { instance: id, absolute: true, steps: [] };
        } else if (e.base.type === 'call' && e.base.name === 'current' && e.base.args.length === 0) {
          start = CONTEXT; // current() is the node the whole expression is evaluated for
        } else {
          walk(e.base, anchor, add);
          start = UNKNOWN;
        }
      }
      const texts = e.steps.map(stepText);
      e.steps.forEach((s, i) => {
        if (s.predicates.length === 0) return;
        const at: Anchor = start === UNKNOWN ? UNKNOWN : resolve(start, texts.slice(0, i + 1));
        for (const p of s.predicates) walk(p, at, add);
      });
      if (start === UNKNOWN) {
        // Steps after a computed node-set: report them as written, relative.
        if (e.base === null) add({ instance: null, absolute: false, steps: texts });
        return;
      }
      add(resolve(start, texts));
      return;
    }
  }
}
