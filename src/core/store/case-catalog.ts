import type { CaseIndex, CaseRecord } from '../protocol/casexml/case-types.ts';
import { caseStateHashOf } from './md5.ts';

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
  private hash: string | null = null;
  private readonly sorted = new Map<string, string[]>();

  constructor(gen: number, version: number) {
    this.gen = gen;
    this.version = version;
  }

  apply(delta: CatalogDelta, version: number): void {
    for (const [id, e] of delta) {
      if (e === null) this.entries.delete(id);
      else this.entries.set(id, e);
    }
    this.version = version;
    this.invalidate();
  }

  invalidate(): void {
    this.reverse = null;
    this.hash = null;
    this.sorted.clear();
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
    if (this.hash === null) this.hash = caseStateHashOf(this.entries.keys());
    return this.hash;
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
