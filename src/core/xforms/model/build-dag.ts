import { XFormError } from '../../errors/xform-error.ts';
import type { BindDef, DepRef, RepeatControlDef, Triggerable, TriggerableKind } from '../form-def.ts';
import { readReferences } from '../xpath/compile-xpath.ts';
import type { CompiledXPath } from '../xpath/xpath-types.ts';
import { isAtOrUnder, parentPath, resolveDependency } from './generic-path.ts';

type Draft = Omit<Triggerable, 'index'>;

/**
 * Builds the form's triggerables and orders them so that each runs after everything it
 * reads (commcare-core `TriggerableDag.finalizeTriggerables`). An edge runs from A to B
 * when B reads A's target; relevance and read-only cascade to the target's subtree, so
 * reading anything below their target counts. JavaRosa matches references exactly (a
 * change to `/data/g/x` does not trigger an expression reading `/data/g`), and so do we.
 * A cycle is an error at load, naming the expressions on it (JavaRosa reports the
 * shortest cycle, "Logic is cyclical").
 */
export function buildDag(
  binds: readonly BindDef[],
  repeats: Iterable<RepeatControlDef>,
  file: string | undefined,
): Triggerable[] {
  const drafts: Draft[] = [];
  const add = (kind: TriggerableKind, expr: CompiledXPath | undefined, bind: BindDef): void => {
    if (expr === undefined) return;
    drafts.push({
      kind,
      expr,
      contextPath: bind.path,
      targetPath: bind.path,
      cascades: kind === 'relevant' || kind === 'readonly',
      refs: dependencies(expr, bind.path),
      type: bind.type,
      filter: bind.filter,
    });
  };
  for (const b of binds) {
    add('relevant', b.relevant, b);
    add('readonly', b.readonly, b);
    add('required', b.required, b);
    add('calculate', b.calculate, b);
  }
  for (const r of repeats) {
    if (r.count === undefined) continue;
    const ctx = parentPath(r.path);
    drafts.push({
      kind: 'count',
      expr: r.count,
      contextPath: ctx,
      targetPath: r.path,
      cascades: true,
      refs: dependencies(r.count, ctx),
      type: 'int',
      filter: undefined,
    });
  }
  return topoSort(drafts, file);
}

/**
 * The generic primary-instance paths an expression reads, resolved against the node it is
 * evaluated for (the evaluator reports predicate paths under the step they filter and
 * other instances' paths with their instance, which the form's graph leaves out).
 */
function dependencies(expr: CompiledXPath, contextPath: string): DepRef[] {
  const out: DepRef[] = [];
  const seen = new Set<string>();
  for (const r of readReferences(expr)) {
    const d = resolveDependency(r, contextPath);
    if (d === undefined) continue;
    const key = `${d.prefix ? '*' : ''}${d.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** Does writing `target` (and, when cascading, its subtree) change what `ref` reads? */
export function touches(target: string, cascades: boolean, ref: DepRef): boolean {
  if (ref.path === target) return true;
  if (cascades && isAtOrUnder(ref.path, target)) return true;
  if (ref.prefix && isAtOrUnder(target, ref.path)) return true;
  return false;
}

/**
 * Edges of the graph: `edges[i]` lists the triggerables that read what `i` writes. Readers
 * are indexed by path so this is not quadratic on large forms.
 */
export function computeEdges(list: readonly Omit<Triggerable, 'index'>[]): number[][] {
  const edges: number[][] = list.map(() => []);
  // exact: readers by the path they read; under: readers by every ancestor of that path
  // (a cascading target reaches whatever is read below it).
  const exact = new Map<string, number[]>();
  const under = new Map<string, number[]>();
  const broad: number[] = [];
  const push = (m: Map<string, number[]>, k: string, i: number): void => {
    const l = m.get(k);
    if (l) l.push(i);
    else m.set(k, [i]);
  };
  list.forEach((d, i) => {
    for (const r of d.refs) {
      if (r.prefix) broad.push(i);
      push(exact, r.path, i);
      for (let at = r.path.lastIndexOf('/'); at > 0; at = r.path.lastIndexOf('/', at - 1))
        push(under, r.path.slice(0, at), i);
    }
  });
  list.forEach((a, i) => {
    const readers = new Set<number>(exact.get(a.targetPath));
    if (a.cascades) for (const j of under.get(a.targetPath) ?? []) readers.add(j);
    for (const j of broad)
      if (list[j]?.refs.some((r) => touches(a.targetPath, a.cascades, r))) readers.add(j);
    edges[i] = [...readers];
  });
  return edges;
}

function topoSort(drafts: Draft[], file: string | undefined): Triggerable[] {
  const n = drafts.length;
  const edges = computeEdges(drafts);
  const indegree = new Array<number>(n).fill(0);
  for (const out of edges) for (const j of out) indegree[j] = (indegree[j] ?? 0) + 1;
  const order: number[] = [];
  // Keep declaration order among independent triggerables: always take the lowest ready
  // index (a min-heap; a sorted array with shift() was quadratic on large forms).
  const ready: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) ready.push(i); // ascending: a valid heap
  while (ready.length > 0) {
    const i = heapPop(ready);
    order.push(i);
    for (const j of edges[i] ?? []) {
      indegree[j] = (indegree[j] ?? 0) - 1;
      if (indegree[j] === 0) heapPush(ready, j);
    }
  }
  if (order.length < n) throw cycleError(drafts, edges, indegree, file);
  return order.map((i, index) => ({ ...(drafts[i] as Draft), index }));
}

function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const up = (i - 1) >> 1;
    if ((h[up] as number) <= v) break;
    h[i] = h[up] as number;
    i = up;
  }
  h[i] = v;
}

function heapPop(h: number[]): number {
  const top = h[0] as number;
  const last = h.pop() as number;
  const n = h.length;
  if (n === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && (h[r] as number) < (h[l] as number) ? r : l;
    if ((h[c] as number) >= last) break;
    h[i] = h[c] as number;
    i = c;
  }
  h[i] = last;
  return top;
}

/** The shortest cycle through the nodes left unsorted (BFS from each), for the message. */
function cycleError(
  drafts: Draft[],
  edges: number[][],
  indegree: number[],
  file: string | undefined,
): XFormError {
  let best: number[] | undefined;
  for (let s = 0; s < drafts.length; s++) {
    if ((indegree[s] ?? 0) <= 0) continue;
    const prev = new Map<number, number>();
    const queue = [s];
    let found = false;
    while (queue.length > 0 && !found) {
      const u = queue.shift() as number;
      for (const v of edges[u] ?? []) {
        if (v === s) {
          prev.set(s, u);
          found = true;
          break;
        }
        if (!prev.has(v)) {
          prev.set(v, u);
          queue.push(v);
        }
      }
    }
    if (!found) continue;
    const cycle = [s];
    for (let u = prev.get(s) as number; u !== s; u = prev.get(u) as number) cycle.unshift(u);
    if (best === undefined || cycle.length < best.length) best = cycle;
  }
  const members = (best ?? []).map((i) => drafts[i] as Draft);
  const lines = members.map((d) => `${d.kind} of ${d.targetPath}: ${d.expr.source}`);
  const refs = members.map((d) => d.targetPath);
  return new XFormError(
    'calculate-cycle',
    `${file === undefined ? '' : `${file}: `}the form's logic is cyclical:\n${lines.join('\n')}`,
    { ...(file === undefined ? {} : { file }), ref: [...new Set(refs)].join(', ') },
  );
}
