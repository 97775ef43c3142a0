import type { RecordCipher } from '../crypto/record-cipher.ts';
import { isFieldsimError } from '../errors/fieldsim-error.ts';
import { StorageError } from '../errors/storage-error.ts';
import { computePurge, type PurgeInput } from '../protocol/casexml/case-purge.ts';
import type { CaseBlock } from '../protocol/casexml/case-types.ts';
import {
  parseRestore,
  type RestoreBody,
  type RestoreParseOptions,
} from '../protocol/restore/restore-parser.ts';
import type {
  AppliedCase,
  FixtureRecord,
  FixtureSchema,
  LedgerBalance,
  PackedCasePage,
  RegistrationRecord,
  RestoreEvent,
} from '../protocol/restore/restore-types.ts';
import type { CaseChanges, RestoreProgress } from '../sync/session-types.ts';
import { CaseCatalog, type CaseEntry, type CatalogDelta } from './case-catalog.ts';
import { applyBlocksWith, caseTables } from './case-db.ts';
import {
  adoptCatalog,
  CASE_PAGE_SIZE,
  type CaseGenState,
  CaseWriter,
  pageRange,
  prepareLiveWrite,
  putFlush,
  readCaseState,
  StaleCaseState,
  sealFlush,
  writeCaseState,
} from './case-writer.ts';
import type { FieldsimDb, LedgerRow } from './fieldsim-db.ts';
import { groupIdsOf, prepareFixtures, writeFixtures } from './fixtures.ts';
import { adoptPackedPages, putPackedPages } from './packed-pages.ts';
import { sealAll, sealLedger } from './sealed-rows.ts';
import { getGroupIds, getRegistration, getSyncToken, META } from './sync-state.ts';

/**
 * Loads a restore payload into the local database.
 *
 * full (first login, 412 recovery):
 *   stream -> parse -> batches of cases written as pages of a NEW generation
 *          -> [reapply blocks] -> purge on the staged generation
 *          -> one transaction: generation pointer, sync token, user, owners, fixtures
 *          -> old generation deleted afterwards
 *   Until that one transaction commits, readers see the old generation: a stream that
 *   dies at any byte, a cycle, a bad case block or a killed tab leaves the previous
 *   database complete. Leftover staged pages are removed by the next ingest.
 *
 * incremental (sync with `since`): the payload (small by nature) is parsed fully, then
 *   merged and purged in one transaction (PROTOCOL.md 3.10: the phone decides what to
 *   drop by running its purge against the new owner set).
 *
 * User, fixtures not in the payload and the outbox are never touched by the case switch
 * (and: DataPullTask.java wipeStorageForFourTwelveSync keeps users and fixtures).
 */

export interface IngestOptions {
  mode: 'full' | 'incremental';
  /** Run the phone's purge after loading (default true). */
  purge?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** Content-Length, when known; only informative. */
  bytesTotal?: number;
  /**
   * Full mode only: blocks applied on top of the fresh payload before the purge and the
   * switch, all in the same all-or-nothing ingest; e.g. the case blocks of forms still in
   * the outbox during 412 recovery, so they are not lost from the local view.
   */
  reapplyBlocks?: CaseBlock[];
  /** Parser events per batch/transaction (default 2000). */
  batchSize?: number;
  /**
   * Full mode: batch transactions left committing while the next batches are parsed and
   * packed (default 0: each batch's commit is awaited before the next is parsed). Each
   * one holds a batch's encoded pages, so this bounds memory. The browser's restore worker
   * uses more, so parsing overlaps IndexedDB's commits (docs/core.md).
   */
  inFlight?: number;
  /**
   * Full mode: called with each change to the staged generation's catalog (a batch's new
   * and updated cases; null for a case removed) just before it is applied, in order. The
   * browser's restore worker streams them to the page, which builds its catalog while the
   * restore goes on (catalog-stream.ts) instead of after it.
   */
  onCatalogDelta?: (delta: CatalogDelta) => void;
  /**
   * Full mode: order the new catalog by name before returning (default true), so the first
   * case list does not sort. Off where the caller orders it elsewhere (catalog-stream.ts).
   */
  sortNames?: boolean;
}

export interface IngestResult {
  syncToken: string | null;
  registration: RegistrationRecord | null;
  /** Cases on the device afterwards. */
  cases: number;
  purged: number;
  /** Ids of fixtures this payload stored, sorted, each once. */
  fixtures: string[];
  /** Incremental mode only: what the payload and the purge changed (see `CaseChanges`). */
  changes?: CaseChanges;
  /** Ledger (entity, section, entry) balances this payload stored. */
  ledgers: number;
}

interface Collected {
  syncToken: string | null;
  registration: RegistrationRecord | null;
  schemas: Map<string, FixtureSchema>;
  fixtures: Map<string, FixtureRecord>;
  groupIds: string[] | null;
  itemsTotal?: number;
}

function ledgerRows(gen: number, balances: readonly LedgerBalance[]): LedgerRow[] {
  const rows: LedgerRow[] = [];
  for (const b of balances)
    for (const e of b.entries)
      rows.push({
        gen,
        entityId: b.entityId,
        sectionId: b.sectionId,
        entryId: e.id,
        quantity: e.quantity,
        date: b.date,
      });
  return rows;
}

function ownerSet(reg: RegistrationRecord | null, groups: readonly string[]): Set<string> | null {
  // With no known user the phone's filter has no owner list and treats every case as owned.
  if (reg === null || reg.uuid === '') return null;
  return new Set([reg.uuid, ...groups]);
}

function* purgeInputs(entries: Iterable<[string, CaseEntry]>): Generator<PurgeInput> {
  for (const [caseId, e] of entries)
    yield { caseId, ownerId: e.ownerId, closed: e.closed, indices: e.indices };
}

function* overlay(
  base: Map<string, CaseEntry>,
  delta: Map<string, CaseEntry | null>,
): Generator<[string, CaseEntry]> {
  for (const [id, e] of base) if (!delta.has(id)) yield [id, e];
  for (const [id, e] of delta) if (e !== null) yield [id, e];
}

function rethrow(e: unknown, what: string): never {
  if (isFieldsimError(e)) throw e;
  throw StorageError.from(e, what);
}

function collect(acc: Collected, ev: RestoreEvent): void {
  switch (ev.kind) {
    case 'items':
      acc.itemsTotal = ev.count;
      break;
    case 'sync':
      acc.syncToken = ev.restoreId;
      break;
    case 'registration':
      acc.registration = ev.registration;
      break;
    case 'schema':
      acc.schemas.set(ev.schema.id, ev.schema);
      break;
    case 'fixture': {
      const f = ev.fixture;
      // Later fixtures with the same (id, user_id) replace earlier ones, as they would in storage.
      acc.fixtures.set(`${f.id}|${f.userId}`, f);
      if (f.id === 'user-groups') acc.groupIds = groupIdsOf(f);
      break;
    }
    default:
      break;
  }
}

export async function ingestRestore(
  db: FieldsimDb,
  body: RestoreBody,
  opts: IngestOptions,
): Promise<IngestResult> {
  return opts.mode === 'full' ? ingestFull(db, body, opts) : ingestIncremental(db, body, opts);
}

/**
 * 412 recovery (PROTOCOL.md 3.4): loads a fresh restore and only then, in one switch,
 * replaces cases, indices and ledgers; the user, fixtures not in the payload and the
 * outbox are kept. `reapplyBlocks` carries unsent forms' case blocks over. Same as a
 * full ingest, named for what the sync flow means by it.
 */
export async function resetCaseData(
  db: FieldsimDb,
  body: RestoreBody,
  opts: Omit<IngestOptions, 'mode'> = {},
): Promise<IngestResult> {
  return ingestFull(db, body, { ...opts, mode: 'full' });
}

/** Removes pages and ledgers of generations other than the live one (killed restores). */
async function cleanupGenerations(db: FieldsimDb): Promise<CaseGenState> {
  return db.transaction('rw', [db.casePages, db.caseSums, db.ledgers, db.meta], async () => {
    const s = await readCaseState(db);
    // Key ranges around the live generation, not its keys read back and filtered: reading
    // the 12,500 keys of a 100k-case generation took 0.4-0.5 s of the restore worker after
    // every switch (session 9), to delete nothing on a first login.
    for (const table of [db.casePages, db.caseSums]) {
      await table
        .where('[gen+page]')
        .between(
          [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
          [s.gen, Number.NEGATIVE_INFINITY],
          true,
          false,
        )
        .delete();
      await table
        .where('[gen+page]')
        .between(
          [s.gen, Number.POSITIVE_INFINITY],
          [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
          false,
          true,
        )
        .delete();
    }
    await db.ledgers.filter((l) => l.gen !== s.gen).delete();
    return s;
  });
}

/**
 * Cases per batch when the store under Dexie writes synchronously in this thread (SQLite
 * under Node): reading ahead buys no overlap there, and a batch's records, page rows and
 * encoded values live until its commit, long enough for V8 to promote them to the old
 * generation; small batches let most of them die young. Measured on 100k cases into an
 * SQLite file: peak RSS over baseline ~+250 MB at 2000 a batch read ahead, ~+180 MB at 250
 * without (CPU within noise).
 */
const SYNC_STORE_BATCH = 250;

/**
 * Asks for the next batch before the current one is handed out, so the parser reads and
 * parses batch n+1 while batch n's transaction is being written and committed (in a
 * browser the commit happens off the main thread): parse and writes overlap instead of
 * taking turns. One batch ahead at most, so memory stays bounded. A failure of the read
 * ahead is kept and thrown when its batch is asked for, never lost or reported twice.
 */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  // Marked handled now: the rejection is rethrown by the `await` below, in order.
  next.catch(() => undefined);
  try {
    while (true) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    // Stopped early (an error in the consumer, an abort): close the parser and its reader
    // once the batch being read ahead is in, without holding up the consumer's error
    // behind a network read.
    it.return?.(undefined)?.catch(() => undefined);
  }
}

/**
 * One step of a full restore on the staged generation: `mutate` runs outside any
 * transaction (its page reads, if any, are of the staged generation nobody else uses),
 * the changed pages and ledger rows are sealed when the database is encrypted, and only
 * then the write transaction opens; `inTx` adds its own requests to it.
 */
async function writeStaged(
  db: FieldsimDb,
  c: RecordCipher | null,
  writer: CaseWriter,
  mutate: () => Promise<void>,
  ledgers: readonly LedgerRow[],
  inTx?: () => Promise<unknown>,
  onDelta?: (delta: CatalogDelta) => void,
): Promise<void> {
  await mutate();
  const [flush, rows] = await Promise.all([
    sealFlush(c, writer.prepareFlush()),
    sealAll(c, ledgers, sealLedger),
  ]);
  await db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], async () => {
    await Promise.all([
      writer.writeFlush(flush),
      rows.length > 0 ? db.ledgers.bulkPut(rows) : undefined,
      inTx?.(),
    ]);
  });
  onDelta?.(writer.delta);
  writer.applyDeltaNow();
}

/** A batch transaction of a full restore that was not waited for (see `writeStagedAhead`). */
interface PendingWrite {
  /** Resolves once its transaction exists (or never will): later batches open theirs after. */
  opened: Promise<void>;
  /** Settles when it committed (or failed). */
  done: Promise<unknown>;
}

/**
 * `writeStaged` without waiting for the sealing or the commit: the flush is settled into
 * the staged catalog at once, sealed (WebCrypto, off this thread) while the next batch is
 * parsed, and its transaction opened once sealed and once the previous batch's
 * transaction is open: IndexedDB runs overlapping read-write transactions in the order
 * they were created, and a later batch rewrites the tail page an earlier one wrote, so
 * the order must be the batches' own. Only when more than `max` are pending does this
 * wait, for the oldest. A failed one is thrown at the latest by `drain`, before anything
 * reads the staged generation as complete.
 */
async function writeStagedAhead(
  db: FieldsimDb,
  c: RecordCipher | null,
  writer: CaseWriter,
  applied: readonly AppliedCase[],
  blocks: CaseBlock[],
  pages: readonly PackedCasePage[],
  ledgers: readonly LedgerRow[],
  inFlight: PendingWrite[],
  max: number,
  onDelta?: (delta: CatalogDelta) => void,
): Promise<void> {
  await applyBatch(writer, applied, blocks, pages);
  const prepared = writer.prepareFlush();
  writer.settleFlush(prepared);
  onDelta?.(writer.delta);
  writer.applyDeltaNow();
  const before = inFlight.at(-1)?.opened;
  const ready = Promise.all([sealFlush(c, prepared), sealAll(c, ledgers, sealLedger), before]);
  let markOpened: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    markOpened = resolve;
  });
  const done = ready.then(
    ([flush, rows]) => {
      try {
        return db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], () =>
          Promise.all([
            putFlush(db, flush),
            putPackedPages(db, pages),
            rows.length > 0 ? db.ledgers.bulkPut(rows) : undefined,
          ]),
        );
      } finally {
        markOpened();
      }
    },
    (e: unknown) => {
      markOpened();
      throw e;
    },
  );
  // Marked handled now: the rejection is thrown when this write is awaited in turn.
  done.catch(() => undefined);
  inFlight.push({ opened, done });
  while (inFlight.length > max) await inFlight.shift()?.done;
}

/**
 * A batch's cases: those the parser's host already applied first (each is the first
 * block of its case in the payload, so it precedes any raw block of the same case), then
 * the raw blocks with the case rules, then the pages the host packed (which come after
 * the batch's raw blocks: packed-pages.ts).
 */
async function applyBatch(
  writer: CaseWriter,
  applied: readonly AppliedCase[],
  blocks: readonly CaseBlock[],
  pages: readonly PackedCasePage[] = [],
): Promise<void> {
  for (const a of applied) writer.putEncoded(a.json, a.summary);
  if (blocks.length > 0) await applyBlocksWith(writer, blocks);
  if (pages.length > 0) adoptPackedPages(writer, pages);
}

async function drain(inFlight: PendingWrite[]): Promise<void> {
  while (inFlight.length > 0) await inFlight.shift()?.done;
}

async function ingestFull(db: FieldsimDb, body: RestoreBody, opts: IngestOptions): Promise<IngestResult> {
  const report = opts.onProgress;
  const progress: RestoreProgress = { phase: 'downloading', bytes: 0, itemsDone: 0, casesWritten: 0 };
  const acc: Collected = {
    syncToken: null,
    registration: null,
    schemas: new Map(),
    fixtures: new Map(),
    groupIds: null,
  };
  let ledgerCount = 0;
  let live: CaseGenState;
  let c: RecordCipher | null;
  try {
    c = db.vault.cipher();
    live = await cleanupGenerations(db);
  } catch (e) {
    rethrow(e, 'Preparing the restore');
  }
  const gen = live.gen + 1;
  const stage = new CaseCatalog(gen, -1);
  const writer = new CaseWriter(db, stage, { gen, version: 0, tailPage: -1, tailCount: CASE_PAGE_SIZE });
  writer.summariesByBatch = true;
  let purged = 0;
  let switched: CaseGenState;
  const maxInFlight = Math.max(0, opts.inFlight ?? 0);
  const onDelta = opts.onCatalogDelta;
  const inFlight: PendingWrite[] = [];
  // Staged pages need not be synced one batch at a time (SQLite under Node: no fsync or
  // checkpoint per batch); the switch below commits them durably, with its own sync.
  let staging = db.backend?.stagedWrites !== undefined;
  const synchronousStore = db.backend !== undefined;
  const endStaging = (): void => {
    if (staging) db.backend?.stagedWrites?.(false);
    staging = false;
  };
  if (staging) db.backend?.stagedWrites?.(true);
  try {
    // The host's parser when it has one (Node: a worker thread, pipelined with the writes
    // here), else this thread's.
    const parseOpts: RestoreParseOptions = {
      ...(opts.signal ? { signal: opts.signal } : {}),
      batchSize: opts.batchSize ?? (synchronousStore ? SYNC_STORE_BATCH : 2000),
      onBytes: (b) => {
        progress.bytes = b;
      },
    };
    // A host parser may pack whole pages of a plain database's staged generation itself.
    const parsed =
      db.restoreParser === undefined
        ? parseRestore(body, parseOpts)
        : db.restoreParser(body, parseOpts, c === null ? { gen } : undefined);
    for await (const batch of synchronousStore ? parsed : readAhead(parsed)) {
      const blocks: CaseBlock[] = [];
      const applied: AppliedCase[] = [];
      const pages: PackedCasePage[] = [];
      const balances: LedgerBalance[] = [];
      let packedCases = 0;
      for (const ev of batch) {
        if (ev.kind === 'case') blocks.push(ev.block);
        else if (ev.kind === 'case-applied') applied.push(ev.applied);
        else if (ev.kind === 'case-page') {
          pages.push(ev.page);
          packedCases += ev.page.summaries.length;
        } else if (ev.kind === 'ledger') balances.push(ev.balance);
        else collect(acc, ev);
      }
      if (blocks.length > 0 || applied.length > 0 || pages.length > 0 || balances.length > 0) {
        const rows = ledgerRows(gen, balances);
        if (maxInFlight > 0)
          await writeStagedAhead(db, c, writer, applied, blocks, pages, rows, inFlight, maxInFlight, onDelta);
        else
          await writeStaged(
            db,
            c,
            writer,
            () => applyBatch(writer, applied, blocks, pages),
            rows,
            () => putPackedPages(db, pages),
            onDelta,
          );
        ledgerCount += rows.length;
      }
      progress.itemsDone += batch.length - pages.length + packedCases;
      progress.casesWritten += blocks.length + applied.length + packedCases;
      if (acc.itemsTotal !== undefined) progress.itemsTotal = acc.itemsTotal;
      report?.({ ...progress });
    }
    const toPurge = async (): Promise<string[]> => {
      const reg = acc.registration ?? (await getRegistration(db));
      const groups = acc.groupIds ?? (await getGroupIds(db));
      return computePurge(purgeInputs(stage.entries), ownerSet(reg, groups)).removed;
    };
    const reapply = opts.reapplyBlocks ?? [];
    // With nothing applied after the last batch, the purge (CPU: ~0.1-0.2 s on 100k cases)
    // is computed while the last batches commit, not after.
    const early = opts.purge !== false && reapply.length === 0 ? toPurge() : undefined;
    // Marked handled now: a failure (a cycle) is thrown by the `await` below, in order.
    early?.catch(() => undefined);
    await drain(inFlight);
    if (reapply.length > 0)
      await writeStaged(db, c, writer, () => applyBlocksWith(writer, reapply), [], undefined, onDelta);
    if (opts.purge !== false) {
      report?.({ ...progress, phase: 'purging' });
      const removed = await (early ?? toPurge());
      purged = removed.length;
      if (removed.length > 0)
        await writeStaged(
          db,
          c,
          writer,
          async () => {
            await writer.prefetch(removed);
            for (const id of removed) writer.remove(id);
          },
          [],
          // Ledgers of removed cases go with them (core: LedgerPurgeFilter.java).
          () =>
            db.ledgers
              .where('[gen+entityId]')
              .anyOf(removed.map((id) => [gen, id]))
              .delete(),
          onDelta,
        );
    }
    if (opts.signal?.aborted) throw opts.signal.reason;
    const fixtures = await prepareFixtures(db, [...acc.fixtures.values()], acc.schemas);
    endStaging();
    // The switch: everything the new data needs, in one transaction.
    switched = await db.transaction('rw', [db.meta, db.fixtures, db.fixtureRows], async () => {
      const now = await readCaseState(db);
      const next: CaseGenState = {
        gen,
        version: Math.max(now.version, live.version) + 1,
        tailPage: writer.state.tailPage,
        tailCount: writer.state.tailCount,
      };
      stage.version = next.version;
      await writeCaseState(db, next);
      if (acc.syncToken !== null) await db.meta.put({ key: META.syncToken, value: acc.syncToken });
      if (acc.registration !== null) await db.meta.put({ key: META.registration, value: acc.registration });
      if (acc.groupIds !== null) await db.meta.put({ key: META.groupIds, value: acc.groupIds });
      await writeFixtures(db, fixtures);
      return next;
    });
  } catch (e) {
    endStaging();
    // Batches still sealing would open their transactions after the cleanup below and
    // leave their pages behind: let them finish (or fail) first.
    await Promise.allSettled(inFlight.map((w) => w.done));
    // Best effort: drop what was staged. If this fails too, the next ingest cleans up.
    await db
      .transaction('rw', [db.casePages, db.caseSums, db.ledgers], async () => {
        await db.casePages
          .where('[gen+page]')
          .between(...pageRange(gen), true, true)
          .delete();
        await db.caseSums
          .where('[gen+page]')
          .between(...pageRange(gen), true, true)
          .delete();
        await db.ledgers.filter((l) => l.gen === gen).delete();
      })
      .catch(() => undefined);
    rethrow(e, 'Loading the restore');
  }
  // Order the cases by name now, as part of the restore, so the first case list after
  // login does not pay for sorting them.
  if (opts.sortNames !== false) stage.byName();
  adoptCatalog(db, stage, switched);
  await cleanupGenerations(db).catch(() => undefined);
  report?.({ ...progress, phase: 'done' });
  return {
    syncToken: acc.syncToken ?? (await getSyncToken(db)),
    registration: acc.registration ?? (await getRegistration(db)),
    cases: stage.entries.size,
    purged,
    fixtures: [...new Set([...acc.fixtures.values()].map((f) => f.id))].sort(),
    ledgers: ledgerCount,
  };
}

async function ingestIncremental(
  db: FieldsimDb,
  body: RestoreBody,
  opts: IngestOptions,
): Promise<IngestResult> {
  const report = opts.onProgress;
  const progress: RestoreProgress = { phase: 'downloading', bytes: 0, itemsDone: 0, casesWritten: 0 };
  const acc: Collected = {
    syncToken: null,
    registration: null,
    schemas: new Map(),
    fixtures: new Map(),
    groupIds: null,
  };
  const blocks: CaseBlock[] = [];
  const balances: LedgerBalance[] = [];
  for await (const batch of parseRestore(body, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    batchSize: opts.batchSize ?? 2000,
    onBytes: (b) => {
      progress.bytes = b;
    },
  })) {
    for (const ev of batch) {
      if (ev.kind === 'case') blocks.push(ev.block);
      else if (ev.kind === 'ledger') balances.push(ev.balance);
      // Only a host parser of full restores applies cases itself; this one is in-thread.
      else if (ev.kind === 'case-applied' || ev.kind === 'case-page')
        throw new StorageError('storage-error', 'An applied case in a sync');
      else collect(acc, ev);
    }
    progress.itemsDone += batch.length;
    if (acc.itemsTotal !== undefined) progress.itemsTotal = acc.itemsTotal;
    report?.({ ...progress });
  }
  if (opts.signal?.aborted) throw opts.signal.reason;
  report?.({ ...progress, phase: 'writing' });
  let purged = 0;
  let ledgerCount = 0;
  let cases = 0;
  let changes: CaseChanges = { created: 0, updated: 0, closed: 0, removed: 0 };
  // Two phases, as for a form save on an encrypted database (case-writer.ts,
  // `prepareLiveWrite`): read, merge, purge and seal outside any transaction, then write
  // everything in one transaction that first checks no other connection wrote cases since
  // (else it all runs again from the new state).
  try {
    const c = db.vault.cipher();
    const fixtures = await prepareFixtures(db, [...acc.fixtures.values()], acc.schemas);
    const reg = acc.registration ?? (await getRegistration(db));
    const groups = acc.groupIds ?? (await getGroupIds(db));
    for (let attempt = 0; ; attempt++) {
      let removed: string[] = [];
      const prep = await prepareLiveWrite(
        db,
        blocks.map((b) => b.caseId.trim()),
        async (writer) => {
          const before = new Map<string, CaseEntry | undefined>();
          for (const b of blocks)
            if (!before.has(b.caseId)) before.set(b.caseId, writer.catalog.entries.get(b.caseId));
          await applyBlocksWith(writer, blocks);
          changes = countChanges(before, writer.delta);
          if (opts.purge !== false) {
            removed = computePurge(
              purgeInputs(overlay(writer.catalog.entries, writer.delta)),
              ownerSet(reg, groups),
            ).removed;
            purged = removed.length;
            changes.removed = removed.length;
            if (removed.length > 0) {
              await writer.prefetch(removed);
              for (const id of removed) writer.remove(id);
            }
          }
          cases = 0;
          for (const _ of overlay(writer.catalog.entries, writer.delta)) cases++;
        },
      );
      const gen = prep.writer.state.gen;
      const rows = ledgerRows(gen, balances);
      const sealedRows = await sealAll(c, rows, sealLedger);
      try {
        await db.transaction('rw', [...caseTables(db), db.fixtures, db.fixtureRows], async () => {
          await prep.write();
          if (sealedRows.length > 0) await db.ledgers.bulkPut(sealedRows);
          if (acc.syncToken !== null) await db.meta.put({ key: META.syncToken, value: acc.syncToken });
          if (acc.registration !== null)
            await db.meta.put({ key: META.registration, value: acc.registration });
          if (acc.groupIds !== null) await db.meta.put({ key: META.groupIds, value: acc.groupIds });
          await writeFixtures(db, fixtures);
          if (removed.length > 0)
            await db.ledgers
              .where('[gen+entityId]')
              .anyOf(removed.map((id) => [gen, id]))
              .delete();
        });
        ledgerCount = rows.length;
        break;
      } catch (e) {
        if (e instanceof StaleCaseState && attempt < 8) continue;
        throw e;
      }
    }
  } catch (e) {
    rethrow(e, 'Merging the sync payload');
  }
  progress.casesWritten = blocks.length;
  report?.({ ...progress, phase: 'done' });
  return {
    syncToken: acc.syncToken ?? (await getSyncToken(db)),
    registration: acc.registration ?? (await getRegistration(db)),
    cases,
    purged,
    fixtures: [...new Set([...acc.fixtures.values()].map((f) => f.id))].sort(),
    ledgers: ledgerCount,
    changes,
  };
}

/**
 * Classifies each case the payload carried by comparing it with the device before the
 * merge. HQ writes a restored case whole (create, update and index blocks for every case
 * it sends; hq:corehq/ex-submodules/casexml/apps/phone/xml.py), even one the phone already
 * has, so a `<create>` in the payload does not mean "new here": only the device's
 * previous state tells.
 */
function countChanges(
  before: Map<string, CaseEntry | undefined>,
  delta: Map<string, CaseEntry | null>,
): CaseChanges {
  const out: CaseChanges = { created: 0, updated: 0, closed: 0, removed: 0 };
  for (const [id, was] of before) {
    const now = delta.get(id);
    if (now === undefined || now === null) continue;
    if (now.closed && (was === undefined || !was.closed)) out.closed++;
    else if (was === undefined) out.created++;
    else out.updated++;
  }
  return out;
}
