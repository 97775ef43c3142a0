/**
 * Chromium side of the encryption-at-rest benchmark (bundled by bench/encryption.bench.ts):
 * the same rounds as in Node (encryption-round.ts) over Chromium's on-disk IndexedDB,
 * with the browser's own WebCrypto sealing the records; and the PWA's own restore path,
 * the restore Web Worker (`workerRound`), with the unlock's catalog load after it.
 */
import Dexie from 'dexie';
import { workerFullIngest } from '../src/app/restore-worker/worker-ingest.ts';
import { createDataKey } from '../src/core/crypto/data-key.ts';
import { RecordCipher } from '../src/core/crypto/record-cipher.ts';
import { CaseDb } from '../src/core/store/case-db.ts';
import { forgetCatalog, loadCatalog } from '../src/core/store/case-writer.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { encryptionRound, type RoundResult, sealCost } from './encryption-round.ts';
import { streamOfChunks, synthId, synthRestoreChunks } from './restore-synth.ts';

let cipher: RecordCipher | null = null;
let dbs = 0;

async function cipherNow(): Promise<RecordCipher> {
  cipher ??= new RecordCipher((await createDataKey('bench', { iterations: 1000 })).key);
  return cipher;
}

async function round(encrypted: boolean, cases: number, forms: number): Promise<RoundResult> {
  const c = encrypted ? await cipherNow() : null;
  const name = `bench-enc-${Date.now()}-${++dbs}`;
  try {
    // The PWA restores in its worker with 3 batch commits in flight (restore-worker.ts), so
    // sealing one batch overlaps parsing the next: measured the same way here.
    return await encryptionRound(name, { indexedDB, IDBKeyRange }, c, cases, forms, undefined, 3);
  } finally {
    // Each round starts from an empty profile's worth of data, as the Node rounds do.
    await new Promise<void>((resolve) => {
      const r = indexedDB.deleteDatabase(name);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
  }
}

export interface WorkerRoundResult {
  /** The restore through the PWA's worker, end to end (worker start to the page's catalog). */
  restoreMs: number;
  /** Then the unlock's catalog load: every summary record read (and opened) again. */
  unlockMs: number;
  /** Then reads as the case list and case screens do them (see `readCost`). */
  reads: ReadCost;
  cases: number;
}

/**
 * What larger pages cost the reads (encrypted pages hold 32 cases, plain ones 16): a case
 * list screen (50 rows by name from the middle of the list: up to 50 pages read and
 * opened), a text search that reads every page, and single cases (a case detail, each on a
 * page not read before), ms.
 */
export interface ReadCost {
  listMs: number;
  searchMs: number;
  getMedianMs: number;
}

async function readCost(db: FieldsimDb, cases: number): Promise<ReadCost> {
  const caseDb = new CaseDb(db);
  let t = performance.now();
  const list = await caseDb.query({ offset: Math.floor(cases / 2), limit: 50 });
  const listMs = performance.now() - t;
  t = performance.now();
  const found = await caseDb.query({ text: 'no-such-text-anywhere' });
  const searchMs = performance.now() - t;
  if (list.cases.length !== 50 || found.total !== 0) throw new Error('reads: unexpected answers');
  const gets: number[] = [];
  for (let i = 0; i < 21; i++) {
    const id = synthId((i * 7919 + 13) % cases);
    t = performance.now();
    const c = await caseDb.get(id);
    gets.push(performance.now() - t);
    if (c?.caseId !== id) throw new Error(`reads: ${id} not found`);
  }
  gets.sort((a, b) => a - b);
  return { listMs, searchMs, getMedianMs: gets[10] ?? Number.NaN };
}

/**
 * A full restore as the PWA runs it: the body handed to a restore worker (served at
 * `workerUrl`), which parses, seals and writes it, then the page adopts its catalog. Then
 * the catalog is dropped and loaded from the database, as an unlock does.
 */
async function workerRound(
  encrypted: boolean,
  cases: number,
  workerUrl = '/restore-worker.js',
  /** false: the restore alone (no catalog load or reads after it). */
  withReads = true,
): Promise<WorkerRoundResult> {
  const { chunks } = synthRestoreChunks(cases);
  const db = new FieldsimDb(`bench-enc-worker-${Date.now()}-${++dbs}`, { indexedDB, IDBKeyRange });
  if (encrypted) db.vault.open(await cipherNow());
  await db.open();
  try {
    const run = workerFullIngest(() => new Worker(workerUrl, { type: 'module' }));
    if (run === undefined) throw new Error('no Worker in this page');
    const t0 = performance.now();
    const r = await run(db, streamOfChunks(chunks), { purge: false });
    const restoreMs = performance.now() - t0;
    if (!withReads)
      return { restoreMs, unlockMs: 0, reads: { listMs: 0, searchMs: 0, getMedianMs: 0 }, cases: r.cases };
    forgetCatalog(db);
    const t1 = performance.now();
    const { cat } = await loadCatalog(db);
    const unlockMs = performance.now() - t1;
    if (cat.entries.size !== r.cases || r.cases !== cases)
      throw new Error(`worker restore: ${r.cases} cases, catalog ${cat.entries.size}, expected ${cases}`);
    return { restoreMs, unlockMs, reads: await readCost(db, cases), cases: r.cases };
  } finally {
    db.close();
    await Dexie.delete(db.name);
  }
}

async function seals(n: number): Promise<number[]> {
  return sealCost(await cipherNow(), n);
}

declare global {
  var fieldsimEncryptionBench: { round: typeof round; workerRound: typeof workerRound; seals: typeof seals };
}
globalThis.fieldsimEncryptionBench = { round, workerRound, seals };
