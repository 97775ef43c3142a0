import { compileXPath } from '../xpath/compile-xpath.ts';
import type { PathExpr, Step, XPathExpr } from '../xpath/xpath-ast.ts';
import type { CompiledXPath } from '../xpath/xpath-types.ts';
import { splitPath } from './generic-path.ts';

/**
 * JavaRosa evaluates an absolute path against the node it is evaluated for: `/data/rep/a`
 * read for `/data/rep[2]/b` means `/data/rep[2]/a` (commcare-core
 * `TreeReference.contextualize`: each leading level whose name matches the context's takes
 * the context's position; matching stops at the first name that differs). HQ's app
 * builder writes every reference absolute, so inside repeats this rule decides which
 * instance a calculate, a relevance or a label reads.
 *
 * Plain XPath starts an absolute path at the root and reads every instance, so expressions
 * whose absolute paths pass through a repeat on the context's own chain are rewritten once,
 * at load, into the equivalent relative path (`/data/rep/a` for `/data/rep/b` becomes
 * `../a`). Paths inside predicates are rewritten against the nodes the predicate filters
 * when those are primary-instance nodes; inside other instances' predicates JavaRosa does
 * not contextualize (the context is another instance), and neither do we.
 */
export function contextualizeExpression(
  expr: CompiledXPath,
  contextPath: string,
  repeats: ReadonlySet<string>,
): CompiledXPath {
  if (repeats.size === 0) return expr;
  const ast = (expr as { ast?: XPathExpr }).ast;
  if (ast === undefined) return expr;
  const ctx = splitPath(contextPath);
  if (!ctx.some((_, i) => repeats.has(`/${ctx.slice(0, i + 1).join('/')}`))) return expr;
  const state = { changed: false, repeats };
  const rewritten = rewrite(ast, ctx, ctx, state);
  if (!state.changed) return expr;
  const source = print(rewritten);
  if (source === undefined) return expr;
  try {
    return compileXPath(source);
  } catch {
    return expr;
  }
}

interface State {
  changed: boolean;
  repeats: ReadonlySet<string>;
}

function rewrite(e: XPathExpr, ctx: string[] | null, top: string[], st: State): XPathExpr {
  switch (e.type) {
    case 'number':
    case 'string':
    case 'variable':
      return e;
    case 'negate':
      return { type: 'negate', operand: rewrite(e.operand, ctx, top, st) };
    case 'binary':
      return {
        type: 'binary',
        op: e.op,
        left: rewrite(e.left, ctx, top, st),
        right: rewrite(e.right, ctx, top, st),
      };
    case 'call':
      return { type: 'call', name: e.name, args: e.args.map((a) => rewrite(a, ctx, top, st)) };
    case 'filter':
      return {
        type: 'filter',
        base: rewrite(e.base, ctx, top, st),
        predicates: e.predicates.map((p) => rewrite(p, null, top, st)),
      };
    case 'path':
      return rewritePath(e, ctx, top, st);
  }
}

function rewritePath(p: PathExpr, ctx: string[] | null, top: string[], st: State): PathExpr {
  let start: string[] | null;
  let base = p.base;
  if (base === null) start = p.absolute ? [] : ctx;
  else if (base.type === 'call' && base.name === 'current' && base.args.length === 0) start = top;
  else {
    base = rewrite(base, ctx, top, st);
    start = null;
  }
  // Predicates are evaluated for the nodes of their step: track that step's generic path.
  let cur = start === null ? null : [...start];
  const steps: Step[] = p.steps.map((s) => {
    cur = cur === null ? null : advance(cur, s);
    const at = cur;
    return s.predicates.length === 0
      ? s
      : { ...s, predicates: s.predicates.map((q) => rewrite(q, at, top, st)) };
  });
  const out: PathExpr = { type: 'path', absolute: p.absolute, base, steps };
  if (p.base !== null || !p.absolute || ctx === null) return out;
  return narrow(out, ctx, st) ?? out;
}

function advance(path: string[], s: Step): string[] | null {
  const t = s.test;
  if (s.axis === 'self' && t.kind === 'node') return path;
  if (s.axis === 'parent' && t.kind === 'node') return path.slice(0, -1);
  if (s.axis === 'child' && t.kind === 'name') return [...path, t.local];
  if (s.axis === 'attribute' && t.kind === 'name') return [...path, `@${t.local}`];
  return null;
}

/** The relative form of an absolute path narrowed to the context's repeat instances, if any. */
function narrow(p: PathExpr, ctx: string[], st: State): PathExpr | undefined {
  let k = 0;
  let throughRepeat = false;
  while (k < p.steps.length && k < ctx.length) {
    const s = p.steps[k] as Step;
    const name =
      s.test.kind === 'name' ? (s.axis === 'attribute' ? `@${s.test.local}` : s.test.local) : undefined;
    const plainAxis = s.axis === 'child' || s.axis === 'attribute';
    if (!plainAxis || name === undefined || name !== ctx[k] || s.predicates.length > 0) break;
    if (st.repeats.has(`/${ctx.slice(0, k + 1).join('/')}`)) throughRepeat = true;
    k++;
  }
  if (!throughRepeat) return undefined;
  const ups: Step[] = [];
  for (let i = 0; i < ctx.length - k; i++)
    ups.push({ axis: 'parent', test: { kind: 'node' }, predicates: [] });
  const rest = p.steps.slice(k);
  const steps = [...ups, ...rest];
  st.changed = true;
  return {
    type: 'path',
    absolute: false,
    base: null,
    steps: steps.length > 0 ? steps : [{ axis: 'self', test: { kind: 'node' }, predicates: [] }],
  };
}

// --- printing the tree back to XPath source ---

function print(e: XPathExpr): string | undefined {
  switch (e.type) {
    case 'number': {
      const s = String(e.value);
      return /e|Infinity|NaN/.test(s) ? undefined : s;
    }
    case 'string':
      if (!e.value.includes("'")) return `'${e.value}'`;
      if (!e.value.includes('"')) return `"${e.value}"`;
      return undefined;
    case 'variable':
      return `$${e.name}`;
    case 'negate': {
      const o = print(e.operand);
      return o === undefined ? undefined : `-(${o})`;
    }
    case 'binary': {
      const l = print(e.left);
      const r = print(e.right);
      return l === undefined || r === undefined ? undefined : `(${l} ${e.op} ${r})`;
    }
    case 'call': {
      const args = e.args.map(print);
      if (args.some((a) => a === undefined)) return undefined;
      return `${e.name}(${args.join(', ')})`;
    }
    case 'filter': {
      const b = print(e.base);
      const preds = e.predicates.map(print);
      if (b === undefined || preds.some((q) => q === undefined)) return undefined;
      return `(${b})${preds.map((q) => `[${q}]`).join('')}`;
    }
    case 'path':
      return printPath(e);
  }
}

function printPath(p: PathExpr): string | undefined {
  const steps: string[] = [];
  for (const s of p.steps) {
    const st = printStep(s);
    if (st === undefined) return undefined;
    steps.push(st);
  }
  const body = steps.join('/');
  if (p.base !== null) {
    const b = print(p.base);
    if (b === undefined) return undefined;
    // A call base needs no parentheses (`instance('x')/a`, `current()/..`); others do.
    const base = p.base.type === 'call' ? b : `(${b})`;
    return body === '' ? base : `${base}/${body}`;
  }
  if (p.absolute) return `/${body}`;
  return body;
}

function printStep(s: Step): string | undefined {
  const preds: string[] = [];
  for (const q of s.predicates) {
    const x = print(q);
    if (x === undefined) return undefined;
    preds.push(`[${x}]`);
  }
  const t = s.test;
  const test =
    t.kind === 'name'
      ? t.prefix === ''
        ? t.local
        : `${t.prefix}:${t.local}`
      : t.kind === 'any'
        ? '*'
        : `${t.kind}()`;
  let head: string;
  if (preds.length === 0 && s.axis === 'self' && t.kind === 'node') head = '.';
  else if (preds.length === 0 && s.axis === 'parent' && t.kind === 'node') head = '..';
  else if (s.axis === 'child') head = test;
  else if (s.axis === 'attribute') head = `@${test}`;
  else head = `${s.axis}::${test}`;
  return head + preds.join('');
}
