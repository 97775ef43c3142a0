import { toHex, xorMd5Into } from '../lib/md5.ts';
import type { CaseIndex, CaseRecord } from '../protocol/casexml/case-types.ts';

/**
 * The in-memory catalog of one case generation: for every case, the page holding it and
 * the fields queries and the purge need. It is the "index rebuilt lazily" of DESIGN.md
 * section 8: IndexedDB holds only packed pages (cheap to write), and the catalog makes
 * lookups, sorted pages, children and the purge fast. It is rebuilt from the pages when
 * the stored `version` differs from the catalog's (another tab, another process).
 */

export interface CaseEntry {
  page: number;
  caseType: string;
  caseName: string;
  ownerId: string;
  closed: boolean;
  lastModified: string;
  indices: CaseIndex[];
}

/** Changes made in an open transaction; applied to the catalog once it commits. */
export type CatalogDelta = Map<string, CaseEntry | null>;

export function entryOf(c: CaseRecord, page: number): CaseEntry {
  return {
    page,
    caseType: c.caseType,
    caseName: c.caseName,
    ownerId: c.ownerId,
    closed: c.closed,
    lastModified: c.lastModified,
    indices: c.indices,
  };
}

/** How a cached case list is made: which cases it keeps, in which order. */
export interface ListRule {
  keep(e: CaseEntry): boolean;
  /** By (name, id), or most recently modified first, ties by id. */
  order: 'name' | 'lastModified';
}

interface CachedList {
  ids: string[];
  rule?: ListRule;
}

function sameIndices(a: readonly CaseIndex[], b: readonly CaseIndex[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as CaseIndex;
    const y = b[i] as CaseIndex;
    if (
      x.identifier !== y.identifier ||
      x.caseId !== y.caseId ||
      x.caseType !== y.caseType ||
      x.relationship !== y.relationship
    )
      return false;
  }
  return true;
}

function addEdges(reverse: Map<string, ReverseEdge[]>, id: string, e: CaseEntry): void {
  for (const ix of e.indices) {
    const edge = { caseId: id, identifier: ix.identifier, relationship: ix.relationship };
    const list = reverse.get(ix.caseId);
    if (list) list.push(edge);
    else reverse.set(ix.caseId, [edge]);
  }
}

function removeEdges(reverse: Map<string, ReverseEdge[]>, id: string, old: CaseEntry): void {
  for (const ix of old.indices) {
    const list = reverse.get(ix.caseId);
    if (list === undefined) continue;
    const kept = list.filter((edge) => edge.caseId !== id);
    if (kept.length > 0) reverse.set(ix.caseId, kept);
    else reverse.delete(ix.caseId);
  }
}

export interface ReverseEdge {
  caseId: string;
  identifier: string;
  relationship: CaseIndex['relationship'];
}

export class CaseCatalog {
  gen: number;
  version: number;
  readonly entries = new Map<string, CaseEntry>();
  private reverse: Map<string, ReverseEdge[]> | null = null;
  /**
   * XOR of MD5(case id) over all cases (PROTOCOL.md 3.6), once computed: kept up to date
   * by `apply` (an XOR per case created or removed), so a sync after a few saves does not
   * hash 100k ids again.
   */
  private hashAcc: Uint8Array | null = null;
  private readonly sorted = new Map<string, CachedList>();
  /** Every case id ordered by (name, id), kept up to date through small changes. */
  private nameOrder: string[] | null = null;

  constructor(gen: number, version: number) {
    this.gen = gen;
    this.version = version;
  }

  apply(delta: CatalogDelta, version: number): void {
    // A form save changes a case or two: move them within the name order and the cached
    // case lists (binary search), and adjust the reverse index, instead of sorting and
    // filtering 100k cases again on the next case list or case detail (at 100k cases
    // that took 30-100 ms after every save).
    // Each step is a binary search and a splice (a copy of up to 100k pointers) per list,
    // so large deltas (a sync) rebuild on the next use instead.
    const order = delta.size <= 2000 ? this.nameOrder : null;
    const small = delta.size <= 200;
    const acc = this.hashAcc;
    let reverse = small ? this.reverse : null;
    const lists: CachedList[] = [];
    for (const [key, list] of this.sorted)
      if (small && list.rule !== undefined) lists.push(list);
      else this.sorted.delete(key);
    for (const [id, e] of delta) {
      const old = this.entries.get(id);
      // Out with the old entry while the catalog still holds it...
      if (order !== null && old !== undefined && (e === null || e.caseName !== old.caseName)) {
        const i = this.findName(order, old.caseName, id);
        if (order[i] === id) order.splice(i, 1);
      }
      for (const list of lists)
        if (old !== undefined && (list.rule as ListRule).keep(old)) {
          const i = this.findIn(list, old, id);
          if (list.ids[i] === id) list.ids.splice(i, 1);
        }
      if (reverse !== null && old !== undefined && e !== null && !sameIndices(old.indices, e.indices))
        // Rare (an index action on a known case): where its edges go in each list depends
        // on the case's place among all cases, so rebuild on the next use.
        reverse = null;
      if (reverse !== null && old !== undefined && e === null) removeEdges(reverse, id, old);
      if (acc !== null && (old === undefined) !== (e === null)) xorMd5Into(acc, id);
      if (e === null) this.entries.delete(id);
      else this.entries.set(id, e);
      // ...in with the new one.
      if (order !== null && e !== null && (old === undefined || e.caseName !== old.caseName))
        order.splice(this.findName(order, e.caseName, id), 0, id);
      for (const list of lists)
        if (e !== null && (list.rule as ListRule).keep(e)) list.ids.splice(this.findIn(list, e, id), 0, id);
      // A new case comes last in the catalog, so its edges come last in each list.
      if (reverse !== null && old === undefined && e !== null) addEdges(reverse, id, e);
    }
    this.version = version;
    this.reverse = reverse;
    this.hashAcc = acc;
    this.nameOrder = order;
  }

  /** First position in a cached list whose case does not sort before (`e`, `id`). */
  private findIn(list: CachedList, e: CaseEntry, id: string): number {
    if ((list.rule as ListRule).order === 'name') return this.findName(list.ids, e.caseName, id);
    // Most recently modified first, ties by id (see CaseDb.query).
    const k = e.lastModified;
    let lo = 0;
    let hi = list.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = list.ids[mid] as string;
      const mk = (this.entries.get(m) as CaseEntry).lastModified;
      if (mk > k || (mk === k && m < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position in `order` whose (name, id) is not below (name, id). */
  private findName(order: string[], name: string, id: string): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = order[mid] as string;
      const mn = (this.entries.get(m) as CaseEntry).caseName;
      if (mn < name || (mn === name && m < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * All case ids sorted by name, then id (UTF-16 code unit order). Computed once, then
   * maintained by `apply`; filtered case lists are slices of it, so only the first list
   * after a restore or reopen pays for a sort.
   */
  byName(): string[] {
    if (this.nameOrder === null) {
      // Native sort of "name NUL id" keys is much faster than a JS comparator; NUL cannot
      // occur in XML text, so it only separates name and id.
      const keys: string[] = [];
      for (const [id, e] of this.entries) keys.push(`${e.caseName}\u0000${id}`);
      keys.sort();
      this.nameOrder = keys.map((k) => k.slice(k.lastIndexOf('\u0000') + 1));
    }
    return this.nameOrder;
  }

  /**
   * Takes a name order computed elsewhere for these same entries (a restore worker's,
   * catalog-snapshot.ts), so the first case list does not sort again. Checked, not
   * trusted: every id must be a case here and each must sort strictly after the one
   * before (so none repeats and, with the count equal, none is missing); else ignored.
   */
  adoptNameOrder(ids: string[]): boolean {
    if (ids.length !== this.entries.size) return false;
    let prevName = '';
    let prevId = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const e = this.entries.get(id);
      if (e === undefined) return false;
      if (i > 0 && (e.caseName < prevName || (e.caseName === prevName && id <= prevId))) return false;
      prevName = e.caseName;
      prevId = id;
    }
    this.nameOrder = ids;
    return true;
  }

  /** Cases that index `caseId` (children and extensions). */
  incoming(caseId: string): ReverseEdge[] {
    if (this.reverse === null) {
      const r = new Map<string, ReverseEdge[]>();
      for (const [id, e] of this.entries) addEdges(r, id, e);
      this.reverse = r;
    }
    return this.reverse.get(caseId) ?? [];
  }

  stateHash(): string {
    if (this.hashAcc === null) {
      const acc = new Uint8Array(16);
      for (const id of this.entries.keys()) xorMd5Into(acc, id);
      this.hashAcc = acc;
    }
    return this.entries.size === 0 ? '' : toHex(this.hashAcc);
  }

  invalidateKey(key: string): void {
    this.sorted.delete(key);
  }

  /**
   * A cached, sorted list of ids for one filter. With a `rule` (what the filter keeps and
   * how the list is sorted) `apply` keeps the list up to date; without one it is dropped
   * whenever the catalog changes.
   */
  cachedIds(key: string, compute: () => string[], rule?: ListRule): string[] {
    let hit = this.sorted.get(key);
    if (hit === undefined) {
      hit = rule === undefined ? { ids: compute() } : { ids: compute(), rule };
      // Bound the cache: case lists use a handful of filters at a time.
      if (this.sorted.size >= 32) this.sorted.clear();
      this.sorted.set(key, hit);
    }
    return hit.ids;
  }
}
