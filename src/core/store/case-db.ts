import Dexie, { type Table } from 'dexie';
import type { CryptoError } from '../crypto/crypto-error.ts';
import { isFieldsimError } from '../errors/fieldsim-error.ts';
import { StorageError } from '../errors/storage-error.ts';
import { applyCaseBlock } from '../protocol/casexml/apply-case-block.ts';
import type { CaseBlock, CaseRecord, IndexRelationship } from '../protocol/casexml/case-types.ts';
import type { CasePage, CaseQuery } from '../sync/session-types.ts';
import type { CaseCatalog, CaseEntry } from './case-catalog.ts';
import {
  type CaseWriter,
  damageOf,
  ensureCatalog,
  type GuessProbe,
  loadCatalog,
  openLiveWriter,
  type PreparedLiveWrite,
  pickFromPage,
  prepareLiveWrite,
  readCaseState,
  rememberPages,
  StaleCaseState,
} from './case-writer.ts';
import type { CasePageRow, FieldsimDb } from './fieldsim-db.ts';
import { openPage } from './sealed-rows.ts';

/**
 * The local case database of one user (DESIGN.md section 3).
 *
 * Writes follow the phone's CaseXML rules (apply-case-block.ts) and are all-or-nothing:
 * a payload with one bad block changes nothing. `applyBlocks` joins the caller's Dexie
 * transaction when there is one, so a form save can queue the form and apply its case
 * changes atomically:
 *
 *   db.transaction('rw', [db.outbox, ...caseTables(db)], async () => {
 *     await outbox.add(form);
 *     await caseDb.applyBlocks(form.caseBlocks);
 *   });
 */

/** The tables case writes touch; include them all in an outer transaction. */
export function caseTables(db: FieldsimDb): Table[] {
  return [db.casePages, db.caseSums, db.meta, db.ledgers] as unknown as Table[];
}

export interface CaseDbStats {
  total: number;
  open: number;
  closed: number;
  byType: Record<string, number>;
  /** Indices held by all cases (dangling ones included, when purge was skipped). */
  indices: number;
}

export interface RelatedCase {
  case: CaseRecord;
  identifier: string;
  relationship: IndexRelationship;
}

/** Whether the current Dexie transaction is a read-write one on `db` covering the case tables. */
function joinsOpenTransaction(db: FieldsimDb): boolean {
  const tx = Dexie.currentTransaction;
  if (tx === null || tx.db !== db || tx.mode !== 'readwrite') return false;
  return caseTables(db).every((t) => tx.storeNames.includes(t.name));
}

/** Read again: the pages moved on since the catalog was loaded (encrypted databases). */
class StaleRead extends Error {}

/** How often a write or read retries after another connection changed the cases. */
const STALE_RETRIES = 20;

const sealedWrites = new WeakMap<FieldsimDb, Promise<unknown>>();

function rethrow(e: unknown, what: string): never {
  if (isFieldsimError(e)) throw e;
  throw StorageError.from(e, what);
}

/** Applies blocks in document order through a writer; throws on the first bad block. */
export async function applyBlocksWith(w: CaseWriter, blocks: readonly CaseBlock[]): Promise<void> {
  await w.prefetch(blocks.map((b) => b.caseId.trim()));
  const cur = new Map<string, CaseRecord | undefined>();
  for (const b of blocks) {
    const id = b.caseId.trim();
    const prev = cur.has(id) ? cur.get(id) : w.get(id);
    const next = applyCaseBlock(prev, b);
    if (next !== undefined && b.actions.length > 0) cur.set(id, next);
  }
  for (const rec of cur.values()) if (rec !== undefined) w.put(rec);
}

/** Ids most recently modified first, ties by id. */
function byLastModified(cat: CaseCatalog, ids: string[]): string[] {
  const rows = ids.map((id) => ({ id, k: (cat.entries.get(id) as CaseEntry).lastModified }));
  rows.sort((a, b) => (a.k > b.k ? -1 : a.k < b.k ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map((r) => r.id);
}

export class CaseDb {
  readonly db: FieldsimDb;

  constructor(db: FieldsimDb) {
    this.db = db;
  }

  /**
   * Applies case blocks with the phone's rules, in order. Throws XmlError
   * ('case-invalid' | 'case-not-found') naming the case and applies nothing on error.
   *
   * `optimistic` (for a caller that owns the surrounding transaction and can run it
   * again, i.e. the form save): the writes may go out before the stored state is read
   * back, from pages this connection holds; if another connection wrote in between, the
   * whole transaction is aborted, `optimistic.stale` is set, and the caller retries
   * without the option (see `openLiveWriter`).
   */
  async applyBlocks(blocks: CaseBlock[], opts: { optimistic?: GuessProbe } = {}): Promise<void> {
    if (blocks.length === 0) return;
    if (this.db.vault.encrypted) {
      if (Dexie.currentTransaction !== null)
        throw new StorageError(
          'storage-error',
          'Case blocks cannot be applied inside a transaction on an encrypted database: use prepareBlocks',
        );
      return this.#applySealed(blocks);
    }
    const run = async (): Promise<void> => {
      const { writer, commit, verified } = await openLiveWriter(
        this.db,
        blocks.map((b) => b.caseId.trim()),
        opts,
      );
      try {
        await applyBlocksWith(writer, blocks);
      } catch (e) {
        // A block error found on a guessed catalog only counts once the guess is
        // confirmed; if it was stale, the transaction is aborted and retried anyway.
        await verified().catch(() => undefined);
        throw e;
      }
      await commit();
    };
    try {
      // Inside a caller's transaction that already covers the case tables (a form save),
      // run in it directly: a Dexie sub-transaction adds its own promise zone and
      // bookkeeping to every save and buys nothing, since all writes happen at the end.
      if (joinsOpenTransaction(this.db)) await run();
      else await this.db.transaction('rw', caseTables(this.db), run);
    } catch (e) {
      rethrow(e, 'Applying case blocks');
    }
  }

  /**
   * The two-phase form of `applyBlocks` (encrypted databases): reads, applies and seals
   * now, outside any transaction; the caller runs `write()` inside its read-write
   * transaction over `caseTables` and prepares again if it throws `StaleCaseState`.
   * Throws the block errors of `applyBlocks` here, before anything is written.
   */
  async prepareBlocks(blocks: CaseBlock[], opts: { fresh?: boolean } = {}): Promise<PreparedLiveWrite> {
    try {
      return await prepareLiveWrite(
        this.db,
        blocks.map((b) => b.caseId.trim()),
        (w) => applyBlocksWith(w, blocks),
        opts,
      );
    } catch (e) {
      rethrow(e, 'Applying case blocks');
    }
  }

  /** One sealed write at a time per connection (writes prepared together would go stale). */
  async #applySealed(blocks: CaseBlock[]): Promise<void> {
    const tail = sealedWrites.get(this.db) ?? Promise.resolve();
    const run = tail.then(
      () => this.#applySealedNow(blocks),
      () => this.#applySealedNow(blocks),
    );
    sealedWrites.set(
      this.db,
      run.catch(() => undefined),
    );
    return run;
  }

  async #applySealedNow(blocks: CaseBlock[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const prep = await this.prepareBlocks(blocks, { fresh: attempt > 0 });
      try {
        await this.db.transaction('rw', caseTables(this.db), () => prep.write());
        return;
      } catch (e) {
        if (e instanceof StaleCaseState && attempt < STALE_RETRIES) {
          await new Promise((r) => setTimeout(r, Math.random() * 2 * (attempt + 1)));
          continue;
        }
        rethrow(e, 'Applying case blocks');
      }
    }
  }

  /**
   * Stored records that failed their integrity check when the catalog was loaded (an
   * encrypted database; empty otherwise): their cases are left out, the rest is served.
   */
  async damaged(): Promise<readonly CryptoError[]> {
    return this.read((cat) => damageOf(cat));
  }

  private async read<T>(fn: (cat: CaseCatalog, gen: number) => Promise<T> | T): Promise<T> {
    if (this.db.vault.encrypted) {
      for (let attempt = 0; ; attempt++) {
        try {
          const { state, cat } = await loadCatalog(this.db);
          return await fn(cat, state.gen);
        } catch (e) {
          if (e instanceof StaleRead && attempt < STALE_RETRIES) continue;
          rethrow(e, 'Reading cases');
        }
      }
    }
    try {
      return await this.db.transaction('r', [this.db.casePages, this.db.caseSums, this.db.meta], async () => {
        const state = await readCaseState(this.db);
        const cat = await ensureCatalog(this.db, state);
        return fn(cat, state.gen);
      });
    } catch (e) {
      rethrow(e, 'Reading cases');
    }
  }

  /** Records for ids, in the order given; unknown ids are left out. */
  private async fetch(cat: CaseCatalog, gen: number, ids: readonly string[]): Promise<CaseRecord[]> {
    const pages = new Map<number, CaseRecord[] | undefined>();
    for (const id of ids) {
      const e = cat.entries.get(id);
      if (e !== undefined) pages.set(e.page, undefined);
    }
    const nums = [...pages.keys()];
    const version = cat.version;
    const rows = this.db.vault.encrypted
      ? await this.#fetchSealed(gen, version, nums)
      : ((await this.db.casePages.bulkGet(nums.map((p) => [gen, p] as [number, number]))) as (
          | CasePageRow
          | undefined
        )[]);
    // A case the worker opens is likely the one the next form saves: keep its page.
    rememberPages(cat, version, rows);
    const byId = new Map<string, CaseRecord>();
    const want = new Set(ids);
    for (const row of rows) pickFromPage(row, want, byId);
    const out: CaseRecord[] = [];
    for (const id of ids) {
      const c = byId.get(id);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  /**
   * Pages of an encrypted database: read with the state in one transaction, decrypted
   * after it. If the state moved past the catalog's version, the caller's read starts over
   * (`StaleRead`) rather than mix pages of two versions.
   */
  async #fetchSealed(gen: number, version: number, nums: number[]): Promise<(CasePageRow | undefined)[]> {
    const c = this.db.vault.cipher();
    const { state, rows } = await this.db.transaction('r', [this.db.casePages, this.db.meta], async () => ({
      state: await readCaseState(this.db),
      rows: await this.db.casePages.bulkGet(nums.map((p) => [gen, p] as [number, number])),
    }));
    if (state.gen !== gen || state.version !== version) throw new StaleRead();
    if (c === null) return rows as (CasePageRow | undefined)[];
    return Promise.all(rows.map((r) => openPage(c, r)));
  }

  async get(caseId: string): Promise<CaseRecord | undefined> {
    return this.read(async (cat, gen) => (await this.fetch(cat, gen, [caseId]))[0]);
  }

  async getMany(caseIds: readonly string[]): Promise<CaseRecord[]> {
    return this.read((cat, gen) => this.fetch(cat, gen, caseIds));
  }

  /**
   * Cases by type, owner, status (default all), name prefix (case-insensitive), one
   * property value and a text found in the name or any property value (case-insensitive
   * substring); sorted by name (default) or most recently modified first; paged
   * (default 50 rows). Filtered, sorted id lists are cached until the data changes, so
   * paging through a list costs one page read per step. `offsetFrom` chooses the offset
   * once the list's length is known (a pick from the list in one read, where a count
   * then a page took two).
   */
  async query(q: CaseQuery = {}, opts: { offsetFrom?: (total: number) => number } = {}): Promise<CasePage> {
    const status = q.status ?? 'all';
    const prefix = q.namePrefix?.toLowerCase();
    const sort = q.sort ?? 'name';
    const offset = Math.max(0, q.offset ?? 0);
    const limit = Math.max(0, q.limit ?? 50);
    // Values, not `q`: the catalog keeps using the rule below after the call returns.
    const { caseType, ownerId, property } = q;
    const text = q.text?.trim().toLowerCase() || undefined;
    return this.read(async (cat, gen) => {
      const key = JSON.stringify([caseType ?? null, ownerId ?? null, status, prefix ?? null, sort]);
      const keep = (e: CaseEntry): boolean =>
        (caseType === undefined || e.caseType === caseType) &&
        (ownerId === undefined || e.ownerId === ownerId) &&
        (status === 'all' || (status === 'open') !== e.closed) &&
        (prefix === undefined || e.caseName.toLowerCase().startsWith(prefix));
      // The rule lets the catalog keep this list up to date through saves (case-catalog.ts).
      let ids = cat.cachedIds(
        key,
        () => {
          if (sort === 'name') return cat.byName().filter((id) => keep(cat.entries.get(id) as CaseEntry));
          const out: string[] = [];
          for (const [id, e] of cat.entries) if (keep(e)) out.push(id);
          return byLastModified(cat, out);
        },
        { keep, order: sort },
      );
      if (property !== undefined) {
        const { name, value } = property;
        const pkey = JSON.stringify([key, name, value]);
        const hit = cat.cachedIds(pkey, () => []);
        if (hit.length === 0 && ids.length > 0) {
          // Properties are not in the catalog: scan the candidates' pages once, then cache
          // (without a rule: dropped at the next change). A copy, since the cached list
          // may change while the pages are read.
          const candidates = [...ids];
          const matched = new Set<string>();
          const CHUNK = 2000;
          for (let i = 0; i < candidates.length; i += CHUNK)
            for (const c of await this.fetch(cat, gen, candidates.slice(i, i + CHUNK)))
              if (c.properties[name] === value) matched.add(c.caseId);
          const filtered = candidates.filter((id) => matched.has(id));
          cat.invalidateKey(pkey);
          ids = cat.cachedIds(pkey, () => filtered);
        } else ids = hit;
      }
      if (text !== undefined && ids.length > 0) {
        const tkey = JSON.stringify([key, property?.name ?? null, property?.value ?? null, 'text', text]);
        const hit = cat.cachedIds(tkey, () => []);
        if (hit.length === 0) {
          // Names are in the catalog; only cases whose name does not match need their page
          // read for the properties. Cached like the property scan (dropped at the next change).
          const candidates = [...ids];
          const matched = new Set<string>();
          const unread: string[] = [];
          for (const id of candidates) {
            const e = cat.entries.get(id);
            if (e?.caseName.toLowerCase().includes(text)) matched.add(id);
            else unread.push(id);
          }
          const CHUNK = 2000;
          for (let i = 0; i < unread.length; i += CHUNK)
            for (const c of await this.fetch(cat, gen, unread.slice(i, i + CHUNK)))
              if (Object.values(c.properties).some((v) => v.toLowerCase().includes(text)))
                matched.add(c.caseId);
          const filtered = candidates.filter((id) => matched.has(id));
          cat.invalidateKey(tkey);
          ids = cat.cachedIds(tkey, () => filtered);
        } else ids = hit;
      }
      const from = opts.offsetFrom ? Math.max(0, Math.floor(opts.offsetFrom(ids.length))) : offset;
      return { total: ids.length, cases: await this.fetch(cat, gen, ids.slice(from, from + limit)) };
    });
  }

  /** Cases indexing `caseId` (its children and extensions), optionally of one relationship. */
  async children(caseId: string, relationship?: 'child' | 'extension'): Promise<CaseRecord[]> {
    return (await this.related(caseId, relationship)).map((r) => r.case);
  }

  /** Like `children`, with the index identifier and relationship of each. */
  async related(caseId: string, relationship?: 'child' | 'extension'): Promise<RelatedCase[]> {
    return this.read(async (cat, gen) => {
      const edges = cat
        .incoming(caseId)
        .filter((e) => relationship === undefined || e.relationship === relationship);
      const recs = await this.fetch(cat, gen, [...new Set(edges.map((e) => e.caseId))]);
      const byId = new Map(recs.map((r) => [r.caseId, r]));
      const out: RelatedCase[] = [];
      for (const e of edges) {
        const c = byId.get(e.caseId);
        if (c) out.push({ case: c, identifier: e.identifier, relationship: e.relationship });
      }
      return out;
    });
  }

  /** Cases `caseId` indexes (parents and hosts) that are on the device. */
  async parents(caseId: string, relationship?: 'child' | 'extension'): Promise<CaseRecord[]> {
    return this.read(async (cat, gen) => {
      const e = cat.entries.get(caseId);
      if (e === undefined) return [];
      const ids = e.indices
        .filter((i) => relationship === undefined || i.relationship === relationship)
        .map((i) => i.caseId);
      return this.fetch(cat, gen, [...new Set(ids)]);
    });
  }

  async count(): Promise<number> {
    return this.read((cat) => cat.entries.size);
  }

  /** All case ids on the device (unordered). */
  async ids(): Promise<string[]> {
    return this.read((cat) => [...cat.entries.keys()]);
  }

  /** `ccsh` case-state hash for incremental sync (PROTOCOL.md 3.6); '' with no cases. */
  async caseStateHash(): Promise<string> {
    return this.read((cat) => cat.stateHash());
  }

  async stats(): Promise<CaseDbStats> {
    return this.read((cat) => {
      const s: CaseDbStats = { total: 0, open: 0, closed: 0, byType: {}, indices: 0 };
      for (const e of cat.entries.values()) {
        s.total++;
        if (e.closed) s.closed++;
        else s.open++;
        s.byType[e.caseType] = (s.byType[e.caseType] ?? 0) + 1;
        s.indices += e.indices.length;
      }
      return s;
    });
  }
}
