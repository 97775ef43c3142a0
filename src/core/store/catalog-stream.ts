import { CaseCatalog, type CatalogDelta } from './case-catalog.ts';
import { adoptCatalog, readCaseState } from './case-writer.ts';
import {
  BadCatalogSnapshot,
  type CatalogSnapshot,
  catalogFromSnapshot,
  snapshotCatalog,
  snapshotTransfer,
} from './catalog-snapshot.ts';
import type { FieldsimDb } from './fieldsim-db.ts';

/**
 * The staged catalog of a full restore, streamed from the thread that writes it to the
 * page while the restore goes on (issue 15; docs/pwa.md, "Restore over two workers").
 *
 * Before, the restore worker sorted the new catalog by name, snapshotted it whole after
 * the switch, and the page rebuilt it from the snapshot: ~1 s in a row after the last
 * write (100k cases, session 9, busy machine: sort 0.2-0.3 s, snapshot 0.36-0.43 s,
 * adoption 0.2-0.4 s), with the page idle the whole time before. Here each change the
 * ingest makes to the staged catalog (`IngestOptions.onCatalogDelta`: a batch's cases, the
 * reapplied blocks, the purge's removals) goes to the page as a small snapshot of its own
 * (catalog-snapshot.ts, with that piece's name order), and the page applies it to a
 * catalog it holds and merges the piece's name order into runs as it arrives, so after
 * the switch only the last merges and a check of the order remain.
 *
 * Holds case data in clear, like a snapshot: only in memory, between a worker and its page.
 */
export interface CatalogPiece {
  /** The piece's new and changed entries, with their own name order. */
  snap: CatalogSnapshot;
  /** Ids the change removed, NUL-joined ('' for none). */
  removed: string;
}

const SEP = '\u0000';

/** The buffers a piece's `postMessage` may transfer. */
export function pieceTransfer(p: CatalogPiece): ArrayBuffer[] {
  return snapshotTransfer(p.snap);
}

/** A change to the staged catalog as a piece to send. */
export function catalogPiece(delta: CatalogDelta): CatalogPiece {
  const part = new CaseCatalog(0, 0);
  const removed: string[] = [];
  for (const [id, e] of delta)
    if (e === null) removed.push(id);
    else part.entries.set(id, e);
  return { snap: snapshotCatalog(part), removed: removed.join(SEP) };
}

/**
 * The receiving side: applies pieces in order to its catalog, and keeps their name orders
 * as sorted runs of "name NUL id" keys, merged pairwise as they come (as in a merge sort's
 * bottom-up passes) so no run waits long and the last merge is one pass.
 */
export class CatalogAssembler {
  readonly catalog = new CaseCatalog(0, -1);
  private readonly runs: string[][] = [];
  failed = false;

  add(p: CatalogPiece): void {
    if (this.failed) return;
    try {
      const part = catalogFromSnapshot(p.snap);
      const { entries } = this.catalog;
      if (p.removed !== '') for (const id of p.removed.split(SEP)) entries.delete(id);
      for (const [id, e] of part.entries) entries.set(id, e);
      if (part.entries.size === 0) return;
      const run = part
        .byName()
        .map((id) => `${(part.entries.get(id) as { caseName: string }).caseName}${SEP}${id}`);
      this.runs.push(run);
      this.mergeSettled();
    } catch (e) {
      if (!(e instanceof BadCatalogSnapshot)) throw e;
      this.failed = true;
    }
  }

  /** Merges the last two runs while the newer is at least half the older. */
  private mergeSettled(): void {
    const r = this.runs;
    while (
      r.length >= 2 &&
      (r[r.length - 1] as string[]).length * 2 >= (r[r.length - 2] as string[]).length
    ) {
      const b = r.pop() as string[];
      const a = r.pop() as string[];
      r.push(merge(a, b));
    }
  }

  /**
   * The assembled catalog as generation `gen` at `version`, name-ordered by the merged
   * runs: keys of cases removed since, or renamed (their old key), are dropped, and a key
   * a later piece brought again is kept once. The result is checked (`adoptNameOrder`:
   * every case once, strictly in order); if it does not hold, a sort. Null if a piece was
   * malformed or the count differs from the writer's (the caller reloads).
   */
  finish(gen: number, version: number, count: number): CaseCatalog | null {
    if (this.failed || this.catalog.entries.size !== count) return null;
    const cat = this.catalog;
    cat.gen = gen;
    cat.version = version;
    let all: string[] = [];
    while (this.runs.length > 0) all = merge(this.runs.pop() as string[], all);
    const order: string[] = [];
    let prev = '';
    for (const k of all) {
      if (k === prev) continue;
      prev = k;
      const cut = k.lastIndexOf(SEP);
      const id = k.slice(cut + 1);
      const e = cat.entries.get(id);
      if (e !== undefined && e.caseName.length === cut && k.startsWith(e.caseName)) order.push(id);
    }
    if (!cat.adoptNameOrder(order)) cat.byName();
    return cat;
  }
}

function merge(a: string[], b: string[]): string[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (y < x) {
      out[k++] = y;
      j++;
    } else {
      out[k++] = x;
      i++;
    }
  }
  while (i < a.length) out[k++] = a[i++] as string;
  while (j < b.length) out[k++] = b[j++] as string;
  return out;
}

/**
 * Installs an assembled catalog as `db`'s if it is of the live generation (`gen`,
 * `version`); false (nothing installed: the caller loads it from the database) if the
 * stored state moved on meanwhile or the pieces did not add up.
 */
export async function adoptAssembled(
  db: FieldsimDb,
  asm: CatalogAssembler,
  at: { gen: number; version: number; count: number },
): Promise<boolean> {
  const state = await db.transaction('r', [db.meta], () => readCaseState(db));
  if (state.gen !== at.gen || state.version !== at.version) return false;
  const cat = asm.finish(at.gen, at.version, at.count);
  if (cat === null) return false;
  adoptCatalog(db, cat, state);
  return true;
}
