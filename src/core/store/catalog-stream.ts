import { CaseCatalog, type CaseEntry, type CatalogDelta } from './case-catalog.ts';
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
 * A sorted run: "name NUL id" keys to compare, and beside them the id and name strings
 * the catalog holds (its own Map keys, whose hashes are cached), so the final pass looks
 * cases up without cutting 100k new strings out of the keys (measured: that pass took
 * 0.26-0.7 s at load 10, against ~0.1 s this way).
 */
interface Run {
  keys: string[];
  ids: string[];
  names: string[];
}

/**
 * The receiving side: applies pieces in order to its catalog, and keeps their name orders
 * as sorted runs, merged pairwise as they come (as in a merge sort's bottom-up passes) so
 * no run waits long and the last merge is one pass.
 */
export class CatalogAssembler {
  readonly catalog = new CaseCatalog(0, -1);
  private readonly runs: Run[] = [];
  failed = false;

  add(p: CatalogPiece): void {
    if (this.failed) return;
    try {
      const part = catalogFromSnapshot(p.snap);
      const { entries } = this.catalog;
      if (p.removed !== '') for (const id of p.removed.split(SEP)) entries.delete(id);
      const ids = [...part.entries.keys()];
      for (const id of ids) entries.set(id, part.entries.get(id) as CaseEntry);
      const n = ids.length;
      if (n === 0) return;
      // The piece's name order (a wrong one only costs the sort `finish` falls back to);
      // sorted here if it had none.
      const order = p.snap.nameOrder.length === n ? p.snap.nameOrder : null;
      const run: Run = { keys: new Array(n), ids: new Array(n), names: new Array(n) };
      if (order !== null)
        for (let i = 0; i < n; i++) {
          const id = ids[order[i] as number] as string;
          const name = (entries.get(id) as CaseEntry).caseName;
          run.ids[i] = id;
          run.names[i] = name;
          run.keys[i] = `${name}${SEP}${id}`;
        }
      else {
        const sorted = ids.map((id) => ({
          id,
          key: `${(entries.get(id) as CaseEntry).caseName}${SEP}${id}`,
        }));
        sorted.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        sorted.forEach((x, i) => {
          run.ids[i] = x.id;
          run.names[i] = (entries.get(x.id) as CaseEntry).caseName;
          run.keys[i] = x.key;
        });
      }
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
      (r[r.length - 1] as Run).keys.length * 2 >= (r[r.length - 2] as Run).keys.length
    ) {
      const b = r.pop() as Run;
      const a = r.pop() as Run;
      r.push(merge(a, b));
    }
  }

  /**
   * The assembled catalog as generation `gen` at `version`, name-ordered by the merged
   * runs: cases removed since, or renamed (their old place), are dropped, and a case a
   * later piece brought again under the same name is kept once. The result is checked
   * (`adoptNameOrder`: every case once, strictly in order); if it does not hold, a sort.
   * Null if a piece was malformed or the count differs from the writer's (the caller
   * reloads).
   */
  finish(gen: number, version: number, count: number): CaseCatalog | null {
    if (this.failed || this.catalog.entries.size !== count) return null;
    const cat = this.catalog;
    cat.gen = gen;
    cat.version = version;
    let all: Run = { keys: [], ids: [], names: [] };
    while (this.runs.length > 0) all = merge(this.runs.pop() as Run, all);
    const order: string[] = [];
    const { entries } = cat;
    let prev = '';
    for (let i = 0; i < all.ids.length; i++) {
      const id = all.ids[i] as string;
      const e = entries.get(id);
      if (e === undefined || e.caseName !== all.names[i]) continue;
      if (id === prev) continue;
      prev = id;
      order.push(id);
    }
    if (!cat.adoptNameOrder(order)) cat.byName();
    return cat;
  }
}

function merge(a: Run, b: Run): Run {
  if (a.keys.length === 0) return b;
  if (b.keys.length === 0) return a;
  const n = a.keys.length + b.keys.length;
  const out: Run = { keys: new Array(n), ids: new Array(n), names: new Array(n) };
  let i = 0;
  let j = 0;
  let k = 0;
  const take = (r: Run, x: number): void => {
    out.keys[k] = r.keys[x] as string;
    out.ids[k] = r.ids[x] as string;
    out.names[k] = r.names[x] as string;
    k++;
  };
  while (i < a.keys.length && j < b.keys.length) {
    if ((b.keys[j] as string) < (a.keys[i] as string)) take(b, j++);
    else take(a, i++);
  }
  while (i < a.keys.length) take(a, i++);
  while (j < b.keys.length) take(b, j++);
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
