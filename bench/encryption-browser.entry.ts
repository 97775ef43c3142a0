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
import { forgetCatalog, loadCatalog } from '../src/core/store/case-writer.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { encryptionRound, type RoundResult, sealCost } from './encryption-round.ts';
import { streamOfChunks, synthRestoreChunks } from './restore-synth.ts';

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
  cases: number;
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
    forgetCatalog(db);
    const t1 = performance.now();
    const { cat } = await loadCatalog(db);
    const unlockMs = performance.now() - t1;
    if (cat.entries.size !== r.cases || r.cases !== cases)
      throw new Error(`worker restore: ${r.cases} cases, catalog ${cat.entries.size}, expected ${cases}`);
    return { restoreMs, unlockMs, cases: r.cases };
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
