import { XmlError } from '../../errors/xml-error.ts';

/**
 * The phone's case purge ("case reachability"), PROTOCOL.md section 5, following
 * core: org/commcare/cases/util/CasePurgeFilter.java over core: org/javarosa/core/util/DAG.java.
 *
 * Graph: one node per case, an edge from each case to each case it indexes (child ->
 * parent, extension -> host). Order of work, as the phone does it:
 *   1. edges to cases not on the device: drop the indexing case and, transitively, every
 *      case indexing it;
 *   2. a remaining cycle is an error (InvalidCaseGraphException -> 'invalid-case-graph');
 *   3. RELEVANT = owned and open, spread to everything a relevant case indexes, then from
 *      relevant hosts to their extensions;
 *   4. AVAILABLE = open, relevant, no outgoing extension edge; spread host -> open extension;
 *   5. ALIVE = owned, relevant, available; spread case -> indexed cases and host -> open
 *      extension, twice each in alternation (the phone's fixed two passes);
 *   6. everything not ALIVE goes.
 *
 * Each DAG.java propagation walks from the sources (or sinks) and re-pushes every
 * neighbour, so a mark anywhere reaches everything downstream along qualifying edges:
 * that is a transitive closure, computed here in one pass in topological order (linear
 * time instead of once per path).
 */

export interface PurgeInputIndex {
  caseId: string;
  relationship: 'child' | 'extension';
}

export interface PurgeInput {
  caseId: string;
  ownerId: string;
  closed: boolean;
  indices: readonly PurgeInputIndex[];
}

export interface PurgeResult {
  /** Every case id to remove (missing-target removals first, then dead cases). */
  removed: string[];
  /** Cases removed because they (transitively) index a case that is not on the device. */
  missingTargetRemovals: string[];
}

const OWNED = 1;
const OPEN = 2;
const RELEVANT = 4;
const AVAILABLE = 8;
const ALIVE = 16;

/**
 * The graph in compressed-sparse-row form (typed arrays, no per-node objects): building
 * 100k nodes as arrays of arrays cost more than the whole algorithm.
 */
interface Graph {
  ids: string[];
  status: Uint8Array;
  /** Outgoing edges of node i (to the cases it indexes): outTo[outStart[i] .. outStart[i+1]). */
  outStart: Int32Array;
  outTo: Int32Array;
  outExt: Uint8Array;
  /** Incoming edges of node i (from the cases indexing it), same layout. */
  incStart: Int32Array;
  incFrom: Int32Array;
  incExt: Uint8Array;
  alive: Uint8Array; // 1 while the node is in the graph
}

function buildGraph(cases: Iterable<PurgeInput>, owners: ReadonlySet<string> | null) {
  const ids: string[] = [];
  const num = new Map<string, number>();
  const list: PurgeInput[] = [];
  for (const c of cases) {
    if (num.has(c.caseId)) continue;
    num.set(c.caseId, ids.length);
    ids.push(c.caseId);
    list.push(c);
  }
  const n = ids.length;
  const status = new Uint8Array(n);
  const missing: number[] = [];
  // Edges, deduplicated per (source, target); a non-extension wins (PROTOCOL.md 5.1).
  const src: number[] = [];
  const dst: number[] = [];
  const ext: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = list[i] as PurgeInput;
    // With no owner list everything counts as owned (CasePurgeFilter with null owners).
    const owned = owners === null || owners.has(c.ownerId);
    status[i] = (owned ? OWNED : 0) | (c.closed ? 0 : OPEN);
    const first = dst.length;
    let hasMissing = false;
    for (const ix of c.indices) {
      const t = num.get(ix.caseId);
      if (t === undefined) {
        hasMissing = true;
        continue;
      }
      const e = ix.relationship === 'extension' ? 1 : 0;
      let dup = -1;
      for (let k = first; k < dst.length; k++) if (dst[k] === t) dup = k;
      if (dup >= 0) ext[dup] = (ext[dup] as number) & e;
      else {
        src.push(i);
        dst.push(t);
        ext.push(e);
      }
    }
    if (hasMissing) missing.push(i);
  }
  const m = dst.length;
  const outStart = new Int32Array(n + 1);
  const incStart = new Int32Array(n + 1);
  for (let k = 0; k < m; k++) {
    outStart[(src[k] as number) + 1] = (outStart[(src[k] as number) + 1] as number) + 1;
    incStart[(dst[k] as number) + 1] = (incStart[(dst[k] as number) + 1] as number) + 1;
  }
  for (let i = 0; i < n; i++) {
    outStart[i + 1] = (outStart[i + 1] as number) + (outStart[i] as number);
    incStart[i + 1] = (incStart[i + 1] as number) + (incStart[i] as number);
  }
  const outTo = new Int32Array(m);
  const outExt = new Uint8Array(m);
  const incFrom = new Int32Array(m);
  const incExt = new Uint8Array(m);
  const outFill = outStart.slice(0, n);
  const incFill = incStart.slice(0, n);
  for (let k = 0; k < m; k++) {
    const s = src[k] as number;
    const t = dst[k] as number;
    const o = outFill[s] as number;
    outTo[o] = t;
    outExt[o] = ext[k] as number;
    outFill[s] = o + 1;
    const q = incFill[t] as number;
    incFrom[q] = s;
    incExt[q] = ext[k] as number;
    incFill[t] = q + 1;
  }
  const g: Graph = {
    ids,
    status,
    outStart,
    outTo,
    outExt,
    incStart,
    incFrom,
    incExt,
    alive: new Uint8Array(n).fill(1),
  };
  return { g, missing };
}

/** Step 1: remove cases with missing index targets and, transitively, cases indexing them. */
function removeMissing(g: Graph, missing: number[]): number[] {
  const removed: number[] = [];
  const stack = missing.slice();
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (g.alive[i] === 0) continue;
    g.alive[i] = 0;
    removed.push(i);
    for (let e = g.incStart[i] as number; e < (g.incStart[i + 1] as number); e++) {
      const s = g.incFrom[e] as number;
      if (g.alive[s] === 1) stack.push(s);
    }
  }
  return removed;
}

/**
 * Topological order of the live nodes: a case before every case it indexes. Throws the
 * phone's invalid case graph error when a cycle remains.
 */
function topoOrder(g: Graph): Int32Array {
  const n = g.ids.length;
  const indeg = new Int32Array(n);
  let live = 0;
  for (let i = 0; i < n; i++) {
    if (g.alive[i] === 0) continue;
    live++;
    for (let e = g.incStart[i] as number; e < (g.incStart[i + 1] as number); e++)
      if (g.alive[g.incFrom[e] as number] === 1) indeg[i] = (indeg[i] as number) + 1;
  }
  const order = new Int32Array(live);
  let len = 0;
  for (let i = 0; i < n; i++) if (g.alive[i] === 1 && indeg[i] === 0) order[len++] = i;
  for (let k = 0; k < len; k++) {
    const i = order[k] as number;
    for (let e = g.outStart[i] as number; e < (g.outStart[i + 1] as number); e++) {
      const t = g.outTo[e] as number;
      if (g.alive[t] === 0) continue;
      indeg[t] = (indeg[t] as number) - 1;
      if (indeg[t] === 0) order[len++] = t;
    }
  }
  if (len !== live) throw cycleError(g, indeg);
  return order;
}

/**
 * The error for a cycle, naming its cases in index order so the worker (and whoever fixes
 * the data on the server) sees exactly which cases are wrong. After Kahn's pass every
 * node left has an incoming edge from another node left, so walking incoming edges from
 * any of them must come back to a node already seen: that loop is a cycle.
 */
function cycleError(g: Graph, indeg: Int32Array): XmlError {
  const left = (i: number): boolean => g.alive[i] === 1 && (indeg[i] as number) > 0;
  let i = 0;
  while (!left(i)) i++;
  const seenAt = new Map<number, number>();
  const walk: number[] = [];
  while (!seenAt.has(i)) {
    seenAt.set(i, walk.length);
    walk.push(i);
    for (let e = g.incStart[i] as number; e < (g.incStart[i + 1] as number); e++) {
      const from = g.incFrom[e] as number;
      if (left(from)) {
        i = from;
        break;
      }
    }
  }
  // The walk went against the index direction: reverse it to read "a indexes b".
  const cycle = walk
    .slice(seenAt.get(i))
    .reverse()
    .map((k) => g.ids[k] as string);
  const first = cycle[0] as string;
  const chain = [...cycle, first].map((id) => `'${id}'`).join(' -> ');
  const what =
    cycle.length === 1
      ? `Case ${chain.split(' -> ')[0]} indexes itself`
      : `Cases index each other in a cycle: ${chain}`;
  return new XmlError(
    'invalid-case-graph',
    `${what}. CommCare cannot keep cases whose indices form a cycle; the case data on the server must be corrected (ask your supervisor to fix case '${first}') before this restore can succeed`,
    { caseId: first },
  );
}

/** Mark flows from a case to the cases it indexes (DAG.java direction "children" from sources). */
function spreadToIndexed(g: Graph, order: Int32Array, mask: number, mark: number): void {
  const st = g.status;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (((st[i] as number) & mask) !== mask) continue;
    for (let e = g.outStart[i] as number; e < (g.outStart[i + 1] as number); e++) {
      const t = g.outTo[e] as number;
      if (g.alive[t] === 1) st[t] = (st[t] as number) | mark;
    }
  }
}

/** Mark flows from a host to the cases extending it (DAG.java direction "parents" from sinks). */
function spreadToExtensions(
  g: Graph,
  order: Int32Array,
  mask: number,
  mark: number,
  requireOpen: boolean,
): void {
  const st = g.status;
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k] as number;
    if (((st[i] as number) & mask) !== mask) continue;
    for (let e = g.incStart[i] as number; e < (g.incStart[i + 1] as number); e++) {
      const s = g.incFrom[e] as number;
      if (g.alive[s] === 0 || g.incExt[e] === 0) continue;
      if (requireOpen && ((st[s] as number) & OPEN) === 0) continue;
      st[s] = (st[s] as number) | mark;
    }
  }
}

/**
 * Which cases the phone would purge. `owners` is the user id plus the user's group ids;
 * null means "no owner list", under which every case counts as owned.
 */
export function computePurge(cases: Iterable<PurgeInput>, owners: ReadonlySet<string> | null): PurgeResult {
  const { g, missing } = buildGraph(cases, owners);
  const missingRemoved = removeMissing(g, missing);
  const order = topoOrder(g);
  const st = g.status;

  for (const i of order)
    if (((st[i] as number) & (OWNED | OPEN)) === (OWNED | OPEN)) st[i] = (st[i] as number) | RELEVANT;
  spreadToIndexed(g, order, RELEVANT, RELEVANT);
  spreadToExtensions(g, order, RELEVANT, RELEVANT, false);

  for (const i of order) {
    if (((st[i] as number) & (OPEN | RELEVANT)) !== (OPEN | RELEVANT)) continue;
    let hasExt = false;
    for (let e = g.outStart[i] as number; e < (g.outStart[i + 1] as number); e++)
      if (g.outExt[e] === 1 && g.alive[g.outTo[e] as number] === 1) hasExt = true;
    if (!hasExt) st[i] = (st[i] as number) | AVAILABLE;
  }
  spreadToExtensions(g, order, AVAILABLE, AVAILABLE, true);

  for (const i of order)
    if (((st[i] as number) & (OWNED | RELEVANT | AVAILABLE)) === (OWNED | RELEVANT | AVAILABLE))
      st[i] = (st[i] as number) | ALIVE;
  // The phone runs these two propagations twice each, in alternation (CasePurgeFilter.java).
  spreadToIndexed(g, order, ALIVE, ALIVE);
  spreadToExtensions(g, order, ALIVE, ALIVE, true);
  spreadToIndexed(g, order, ALIVE, ALIVE);
  spreadToExtensions(g, order, ALIVE, ALIVE, true);

  const removed = missingRemoved.map((i) => g.ids[i] as string);
  const missingTargetRemovals = removed.slice();
  for (const i of order) if (((st[i] as number) & ALIVE) === 0) removed.push(g.ids[i] as string);
  return { removed, missingTargetRemovals };
}

/**
 * Connected components (ignoring edge direction) of the cases that remain, as the phone's
 * purge tests check them (`relation_outcome` in case_relationship_tests.json). Indices to
 * cases that are not in `cases` are ignored.
 */
export function connectedComponents(cases: Iterable<PurgeInput>): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    let y = x;
    while (y !== r) {
      const next = parent.get(y) as string;
      parent.set(y, r);
      y = next;
    }
    return r;
  };
  const list = [...cases];
  for (const c of list) parent.set(c.caseId, c.caseId);
  for (const c of list)
    for (const ix of c.indices) if (parent.has(ix.caseId)) parent.set(find(c.caseId), find(ix.caseId));
  const groups = new Map<string, string[]>();
  for (const c of list) {
    const r = find(c.caseId);
    const gr = groups.get(r);
    if (gr) gr.push(c.caseId);
    else groups.set(r, [c.caseId]);
  }
  return [...groups.values()].map((g) => g.sort());
}
