/**
 * Which cases a phone keeps ("live"), per the definitions HQ's livequery and the phone's
 * purge share (PROTOCOL.md 5.2-5.3; `SimplifiedSyncLog.purge` docstring in
 * hq:.../casexml/apps/phone/models.py, `CasePurgeFilter` in commcare-core):
 *
 * - relevant: open and owned; or indexed by a relevant case; or an extension of a relevant host.
 * - available: open, relevant and not an extension; or an open extension of an available host.
 * - live: owned, relevant and available; or indexed by a live case; or an open extension
 *   of a live host.
 *
 * Propagation runs to a fixed point instead of the phone's two passes; the purge corpus
 * (`case_relationship_tests.json`) is the oracle for that equivalence (test/server).
 */
export interface GraphNode {
  owned: boolean;
  closed: boolean;
  /** Outgoing indices (this case -> target). */
  edges: { target: string; relationship: 'child' | 'extension' }[];
}

export function computeLiveSet(nodes: Map<string, GraphNode>): Set<string> {
  // 1. A case whose index target is missing goes, with everything that indexes it.
  const incoming = new Map<string, string[]>();
  const removed = new Set<string>();
  for (const [id, n] of nodes)
    for (const e of n.edges) {
      const list = incoming.get(e.target);
      if (list) list.push(id);
      else incoming.set(e.target, [id]);
    }
  const stack: string[] = [];
  for (const [id, n] of nodes) if (n.edges.some((e) => !nodes.has(e.target))) stack.push(id);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (removed.has(id)) continue;
    removed.add(id);
    for (const src of incoming.get(id) ?? []) stack.push(src);
  }

  // One edge per (source, target): a child index wins over an extension to the same case.
  const out = new Map<string, Map<string, 'child' | 'extension'>>();
  const extIn = new Map<string, string[]>();
  for (const [id, n] of nodes) {
    if (removed.has(id)) continue;
    const m = new Map<string, 'child' | 'extension'>();
    for (const e of n.edges) {
      if (m.get(e.target) === 'child') continue;
      m.set(e.target, e.relationship);
    }
    out.set(id, m);
  }
  for (const [id, m] of out)
    for (const [t, rel] of m)
      if (rel === 'extension') {
        const list = extIn.get(t);
        if (list) list.push(id);
        else extIn.set(t, [id]);
      }
  const isExtension = (id: string): boolean => [...(out.get(id)?.values() ?? [])].includes('extension');
  const open = (id: string): boolean => !nodes.get(id)!.closed;

  // 3. relevance
  const relevant = new Set<string>();
  const q: string[] = [];
  for (const id of out.keys()) if (nodes.get(id)!.owned && open(id)) q.push(id);
  while (q.length > 0) {
    const id = q.pop()!;
    if (relevant.has(id)) continue;
    relevant.add(id);
    for (const t of out.get(id)!.keys()) q.push(t);
    for (const ext of extIn.get(id) ?? []) q.push(ext);
  }
  // 4. availability
  const available = new Set<string>();
  for (const id of out.keys()) if (open(id) && relevant.has(id) && !isExtension(id)) q.push(id);
  while (q.length > 0) {
    const id = q.pop()!;
    if (available.has(id)) continue;
    available.add(id);
    for (const ext of extIn.get(id) ?? []) if (open(ext)) q.push(ext);
  }
  // 5. liveness
  const live = new Set<string>();
  for (const id of out.keys()) if (nodes.get(id)!.owned && relevant.has(id) && available.has(id)) q.push(id);
  while (q.length > 0) {
    const id = q.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    for (const t of out.get(id)!.keys()) q.push(t);
    for (const ext of extIn.get(id) ?? []) if (open(ext)) q.push(ext);
  }
  return live;
}
