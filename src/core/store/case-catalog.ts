import type { CaseIndex, CaseRecord } from '../protocol/casexml/case-types.ts';
import { md5Bytes, toHex } from './md5.ts';

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

function xorMd5(acc: Uint8Array, id: string): void {
  const d = md5Bytes(id);
  for (let i = 0; i < 16; i++) acc[i] = (acc[i] as number) ^ (d[i] as number);
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
  private readonly sorted = new Map<string, string[]>();
  /** Every case id ordered by (name, id), kept up to date through small changes. */
  private nameOrder: string[] | null = null;

  constructor(gen: number, version: number) {
    this.gen = gen;
    this.version = version;
  }

  apply(delta: CatalogDelta, version: number): void {
    // A form save changes a case or two: move them within the name order (binary search)
    // instead of sorting 100k names again on the next case-list query.
    const order = delta.size <= 2000 ? this.nameOrder : null;
    const acc = this.hashAcc;
    for (const [id, e] of delta) {
      const old = this.entries.get(id);
      if (order !== null && old !== undefined && (e === null || e.caseName !== old.caseName)) {
        const i = this.findName(order, old.caseName, id);
        if (order[i] === id) order.splice(i, 1);
      }
      if (acc !== null && (old === undefined) !== (e === null)) xorMd5(acc, id);
      if (e === null) this.entries.delete(id);
      else this.entries.set(id, e);
      if (order !== null && e !== null && (old === undefined || e.caseName !== old.caseName))
        order.splice(this.findName(order, e.caseName, id), 0, id);
    }
    this.version = version;
    this.invalidate(order, acc);
  }

  /** Drops derived data; `apply` passes on what it kept up to date itself. */
  invalidate(keepNameOrder: string[] | null = null, keepHash: Uint8Array | null = null): void {
    this.reverse = null;
    this.hashAcc = keepHash;
    this.sorted.clear();
    this.nameOrder = keepNameOrder;
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

  /** Cases that index `caseId` (children and extensions). */
  incoming(caseId: string): ReverseEdge[] {
    if (this.reverse === null) {
      const r = new Map<string, ReverseEdge[]>();
      for (const [id, e] of this.entries)
        for (const ix of e.indices) {
          const edge = { caseId: id, identifier: ix.identifier, relationship: ix.relationship };
          const list = r.get(ix.caseId);
          if (list) list.push(edge);
          else r.set(ix.caseId, [edge]);
        }
      this.reverse = r;
    }
    return this.reverse.get(caseId) ?? [];
  }

  stateHash(): string {
    if (this.hashAcc === null) {
      const acc = new Uint8Array(16);
      for (const id of this.entries.keys()) xorMd5(acc, id);
      this.hashAcc = acc;
    }
    return this.entries.size === 0 ? '' : toHex(this.hashAcc);
  }

  invalidateKey(key: string): void {
    this.sorted.delete(key);
  }

  /** A cached, sorted list of ids for one filter, dropped whenever the catalog changes. */
  cachedIds(key: string, compute: () => string[]): string[] {
    let ids = this.sorted.get(key);
    if (ids === undefined) {
      ids = compute();
      // Bound the cache: case lists use a handful of filters at a time.
      if (this.sorted.size >= 32) this.sorted.clear();
      this.sorted.set(key, ids);
    }
    return ids;
  }
}
