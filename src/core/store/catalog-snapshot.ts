import type { CaseIndex } from '../protocol/casexml/case-types.ts';
import { CaseCatalog, type CaseEntry } from './case-catalog.ts';
import { adoptCatalog, type CaseGenState, readCaseState } from './case-writer.ts';
import type { FieldsimDb } from './fieldsim-db.ts';

/**
 * A case catalog as one thread hands it to another: the restore worker built the catalog
 * of the generation it just switched to, and the page would otherwise rebuild the same
 * catalog by reading (and, encrypted, decrypting) every summary record again (measured at
 * 100k cases in Chromium: ~0.7 s plain, ~1.2 s encrypted).
 *
 * Columns, not objects: a JSON or structured clone of 100k entries costs the page about
 * as much to parse as reloading them. Here the receiving side splits three NUL-joined
 * strings (ids, names, index targets; NUL cannot occur in XML text, the separator
 * `CaseCatalog.byName` relies on too) and reads numbers from transferred Int32Arrays; the
 * values that repeat (types, owners, dates, index identifiers) come once each in a string
 * table, so the catalog shares them as the loader's interning would.
 *
 * Holds case data in clear: it lives only in memory, between the worker and its own page.
 */
export interface CatalogSnapshot {
  /** The generation and version it is of; the page adopts it only if they are still live. */
  gen: number;
  version: number;
  count: number;
  /** Case ids in catalog order, NUL-joined. */
  ids: string;
  /** Case names in the same order, NUL-joined. */
  names: string;
  /** Distinct repeated values, NUL-joined; the columns below point into it. */
  strings: string;
  /** Per case: page, caseType, ownerId, closed (0/1), lastModified, index count. */
  cols: Int32Array;
  /** Per index, in case order: identifier, caseType, relationship (string table). */
  idx: Int32Array;
  /** Index targets in the same order, NUL-joined. */
  idxIds: string;
  /** Positions (in `ids`) ordered by (name, id); empty when not computed. */
  nameOrder: Int32Array;
}

const SEP = '\u0000';
const COLS = 6;
const IDX_COLS = 3;

/** The buffers a snapshot's `postMessage` may transfer rather than copy. */
export function snapshotTransfer(snap: CatalogSnapshot): ArrayBuffer[] {
  return [snap.cols.buffer, snap.idx.buffer, snap.nameOrder.buffer] as ArrayBuffer[];
}

export function snapshotCatalog(cat: CaseCatalog): CatalogSnapshot {
  const n = cat.entries.size;
  const table = new Map<string, number>();
  const strings: string[] = [];
  const ref = (v: string): number => {
    let i = table.get(v);
    if (i === undefined) {
      // Ids and names are counted after the split; a table value is checked here, once.
      if (v.includes(SEP)) throw new BadCatalogSnapshot('A catalog value holds a NUL character');
      i = strings.length;
      strings.push(v);
      table.set(v, i);
    }
    return i;
  };
  const ids: string[] = [];
  const names: string[] = [];
  const cols = new Int32Array(n * COLS);
  const idx: number[] = [];
  const idxIds: string[] = [];
  const pos = new Map<string, number>();
  let k = 0;
  for (const [id, e] of cat.entries) {
    pos.set(id, ids.length);
    ids.push(id);
    names.push(e.caseName);
    cols[k++] = e.page;
    cols[k++] = ref(e.caseType);
    cols[k++] = ref(e.ownerId);
    cols[k++] = e.closed ? 1 : 0;
    cols[k++] = ref(e.lastModified);
    cols[k++] = e.indices.length;
    for (const ix of e.indices) {
      idx.push(ref(ix.identifier), ref(ix.caseType), ref(ix.relationship));
      idxIds.push(ix.caseId);
    }
  }
  const order = n === 0 ? [] : cat.byName();
  const nameOrder = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) nameOrder[i] = pos.get(order[i] as string) ?? -1;
  return {
    gen: cat.gen,
    version: cat.version,
    count: n,
    ids: ids.join(SEP),
    names: names.join(SEP),
    strings: strings.join(SEP),
    cols,
    idx: Int32Array.from(idx),
    idxIds: idxIds.join(SEP),
    nameOrder,
  };
}

/** A snapshot that is not one `snapshotCatalog` made (or a value held a NUL); the caller reloads. */
export class BadCatalogSnapshot extends Error {
  override readonly name = 'BadCatalogSnapshot';
}

function split(joined: string, count: number, what: string): string[] {
  if (count === 0) return [];
  const parts = joined.split(SEP);
  if (parts.length !== count) throw new BadCatalogSnapshot(`The catalog snapshot's ${what} do not add up`);
  return parts;
}

/**
 * The catalog a snapshot describes, with its name order when the snapshot carries a
 * valid one (else sorted on first use, as after a reload). Every reference is checked,
 * so a malformed snapshot throws `BadCatalogSnapshot` instead of making a wrong catalog.
 */
export function catalogFromSnapshot(snap: CatalogSnapshot): CaseCatalog {
  const n = snap.count;
  if (!Number.isInteger(n) || n < 0 || snap.cols.length !== n * COLS || snap.idx.length % IDX_COLS !== 0)
    throw new BadCatalogSnapshot('The catalog snapshot has the wrong size');
  const ids = split(snap.ids, n, 'ids');
  const names = split(snap.names, n, 'names');
  const nIdx = snap.idx.length / IDX_COLS;
  const idxIds = split(snap.idxIds, nIdx, 'index targets');
  const strings = snap.strings === '' && n === 0 ? [] : snap.strings.split(SEP);
  const str = (i: number): string => {
    const v = strings[i];
    if (v === undefined) throw new BadCatalogSnapshot('A catalog snapshot entry points outside its strings');
    return v;
  };
  const cat = new CaseCatalog(snap.gen, snap.version);
  const { cols, idx } = snap;
  let j = 0;
  for (let i = 0, k = 0; i < n; i++, k += COLS) {
    const count = cols[k + 5] as number;
    if (count < 0 || j + count > nIdx)
      throw new BadCatalogSnapshot('The catalog snapshot has the wrong index count');
    const indices: CaseIndex[] = new Array(count);
    for (let m = 0; m < count; m++, j++)
      indices[m] = {
        identifier: str(idx[j * IDX_COLS] as number),
        caseType: str(idx[j * IDX_COLS + 1] as number),
        caseId: idxIds[j] as string,
        relationship: str(idx[j * IDX_COLS + 2] as number) as CaseIndex['relationship'],
      };
    const entry: CaseEntry = {
      page: cols[k] as number,
      caseType: str(cols[k + 1] as number),
      caseName: names[i] as string,
      ownerId: str(cols[k + 2] as number),
      closed: cols[k + 3] === 1,
      lastModified: str(cols[k + 4] as number),
      indices,
    };
    cat.entries.set(ids[i] as string, entry);
  }
  if (j !== nIdx) throw new BadCatalogSnapshot('The catalog snapshot has unused index rows');
  if (cat.entries.size !== n) throw new BadCatalogSnapshot('The catalog snapshot repeats a case id');
  if (snap.nameOrder.length === n && n > 0) {
    const order: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = ids[snap.nameOrder[i] as number];
      if (id === undefined)
        throw new BadCatalogSnapshot('The catalog snapshot name order points outside its ids');
      order[i] = id;
    }
    cat.adoptNameOrder(order);
  }
  return cat;
}

/** Whether a snapshot is of the live generation `state` (nothing changed it since). */
export function snapshotIsOf(snap: CatalogSnapshot, state: CaseGenState): boolean {
  return snap.gen === state.gen && snap.version === state.version;
}

/**
 * Installs a snapshot as `db`'s catalog if it is of the live generation; false (nothing
 * installed, the caller loads the catalog from the database) if the stored state moved on
 * since the snapshot was taken or the snapshot is malformed.
 */
export async function adoptCatalogSnapshot(db: FieldsimDb, snap: CatalogSnapshot): Promise<boolean> {
  const state = await db.transaction('r', [db.meta], () => readCaseState(db));
  if (!snapshotIsOf(snap, state)) return false;
  let cat: CaseCatalog;
  try {
    cat = catalogFromSnapshot(snap);
  } catch (e) {
    if (e instanceof BadCatalogSnapshot) return false;
    throw e;
  }
  adoptCatalog(db, cat, state);
  return true;
}
