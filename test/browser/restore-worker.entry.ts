/**
 * Chromium side of test/browser/restore-worker.test.ts: the PWA's restore worker against
 * the ingest on the page, on the same payloads, over real IndexedDB with encryption on.
 */
import Dexie from 'dexie';
import { streamOfChunks, synthRestoreChunks } from '../../bench/restore-synth.ts';
import {
  catalogSourceOf,
  restoreWorkerCount,
  stopRestoreWorkers,
  workerFullIngest,
} from '../../src/app/restore-worker/worker-ingest.ts';
import { createDataKey } from '../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../src/core/crypto/record-cipher.ts';
import { isFieldsimError } from '../../src/core/errors/fieldsim-error.ts';
import type { CaseBlock } from '../../src/core/protocol/casexml/case-types.ts';
import { parseRestore } from '../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../src/core/store/case-db.ts';
import { loadCatalog } from '../../src/core/store/case-writer.ts';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { type IngestResult, resetCaseData } from '../../src/core/store/restore-ingest.ts';
import { getSyncToken } from '../../src/core/store/sync-state.ts';
import type { RestoreProgress } from '../../src/core/sync/session-types.ts';

const deps = { indexedDB, IDBKeyRange };
const writerWorker = () => new Worker('/restore-worker.js', { type: 'module' });
/** The PWA's pair: the parse worker reads and parses, the restore worker packs and writes. */
const inWorker = workerFullIngest(
  writerWorker,
  () => new Worker('/restore-parse-worker.js', { type: 'module' }),
);
/** The restore worker alone (where the parse worker cannot start). */
const inOneWorker = workerFullIngest(writerWorker);
let key: CryptoKey | undefined;

async function connect(name: string): Promise<FieldsimDb> {
  key ??= (await createDataKey('pw', { iterations: 1000 })).key;
  const db = new FieldsimDb(name, deps);
  db.vault.open(new RecordCipher(key));
  await db.open();
  return db;
}

async function dump(db: FieldsimDb): Promise<string> {
  const { cases } = await new CaseDb(db).query({ limit: 1_000_000 });
  return JSON.stringify([...cases].sort((a, b) => a.caseId.localeCompare(b.caseId)));
}

function need(single = false): NonNullable<typeof inWorker> {
  const run = single ? inOneWorker : inWorker;
  if (run === undefined) throw new Error('no Worker here');
  return run;
}

/** The first cases of the synthetic payload as blocks, as 412 recovery carries unsent forms over. */
async function someBlocks(n: number): Promise<CaseBlock[]> {
  const blocks: CaseBlock[] = [];
  for await (const batch of parseRestore(streamOfChunks(synthRestoreChunks(n).chunks)))
    for (const ev of batch)
      if (ev.kind === 'case') blocks.push({ ...ev.block, caseId: `${ev.block.caseId}-x` });
  return blocks;
}

/**
 * Stalls after `chunks` chunks until cancelled (a slow network), or errors there (`error`),
 * or (`garbage`) sends broken XML there and ends.
 */
function cutAfter(n: number, chunks: number, error?: string, garbage?: string): ReadableStream<Uint8Array> {
  const all = synthRestoreChunks(n).chunks;
  let i = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (i < chunks) {
        ctrl.enqueue(all[i++] as Uint8Array);
        return;
      }
      if (garbage !== undefined) {
        ctrl.enqueue(new TextEncoder().encode(garbage));
        ctrl.close();
        return;
      }
      if (error === undefined) return new Promise<void>(() => undefined);
      ctrl.error(new TypeError(error));
      return undefined;
    },
  });
}

async function compare(
  n: number,
  single = false,
): Promise<{
  same: boolean;
  cases: number;
  page: IngestResult;
  worker: IngestResult;
  phases: string[];
  sealed: { pages: number; plain: number; leaked: boolean };
  catalog: { source: string | undefined; sameAsReload: boolean };
}> {
  const tag = Date.now();
  const reapplyBlocks = await someBlocks(30);
  const a = await connect(`main-${tag}`);
  const b = await connect(`worker-${tag}`);
  const page = await resetCaseData(a, streamOfChunks(synthRestoreChunks(n).chunks), { reapplyBlocks });
  const phases: string[] = [];
  const worker = await need(single)(b, streamOfChunks(synthRestoreChunks(n).chunks), {
    reapplyBlocks,
    onProgress: (p: RestoreProgress) => {
      if (phases.at(-1) !== p.phase) phases.push(p.phase);
    },
  });
  const same = (await dump(a)) === (await dump(b));
  const cases = await new CaseDb(b).count();
  // The catalog the worker handed over against one read back from the database.
  const handed = (await loadCatalog(b)).cat;
  const again = await connect(b.name);
  const reloaded = (await loadCatalog(again)).cat;
  again.close();
  const catalog = {
    source: catalogSourceOf(b),
    sameAsReload:
      handed !== reloaded &&
      JSON.stringify([...handed.entries]) === JSON.stringify([...reloaded.entries]) &&
      JSON.stringify(handed.byName()) === JSON.stringify(reloaded.byName()),
  };
  // The raw rows the worker wrote, read without the key: sealed, no case name in them.
  const raw = new FieldsimDb(b.name, deps);
  const rows = (await raw.casePages.toArray()) as unknown as Record<string, unknown>[];
  raw.close();
  const text = new TextDecoder('utf-8', { fatal: false });
  const leaked = rows.some(
    (r) =>
      JSON.stringify(r).includes('Household') ||
      (r.enc instanceof Uint8Array && text.decode(r.enc).includes('Household')),
  );
  const plain = rows.filter((r) => !(r.enc instanceof Uint8Array) || 'data' in r).length;
  for (const db of [a, b]) {
    db.close();
    await Dexie.delete(db.name);
  }
  return { same, cases, page, worker, phases, sealed: { pages: rows.length, plain, leaked }, catalog };
}

interface Failure {
  code: string | null;
  name: string | null;
  casesAfter: number;
  tokenAfter: string | null;
  workers: number;
}

async function failing(how: 'dropped' | 'abort' | 'logout' | 'malformed'): Promise<Failure> {
  const db = await connect(`fail-${how}-${Date.now()}`);
  await need()(db, streamOfChunks(synthRestoreChunks(200).chunks), {});
  const ctl = new AbortController();
  let err: unknown;
  try {
    const body =
      how === 'dropped'
        ? cutAfter(20_000, 8, 'network connection was lost')
        : how === 'malformed'
          ? cutAfter(20_000, 8, undefined, '"><case case_id="x"><create></case></OpenRosaResponse>')
          : cutAfter(20_000, 8);
    await need()(db, body, {
      signal: ctl.signal,
      // Small batches, so progress comes before the stream stalls (8 chunks: ~780 cases).
      batchSize: 200,
      onProgress: (p) => {
        if (p.casesWritten < 400) return;
        if (how === 'abort') ctl.abort(new DOMException('cancelled', 'AbortError'));
        if (how === 'logout') stopRestoreWorkers();
      },
    });
  } catch (e) {
    err = e;
  }
  const casesAfter = await new CaseDb(db).count();
  const tokenAfter = await getSyncToken(db);
  db.close();
  await Dexie.delete(db.name);
  return {
    code: isFieldsimError(err) ? err.code : null,
    name: err instanceof Error ? err.name : null,
    casesAfter,
    tokenAfter,
    workers: restoreWorkerCount(),
  };
}

/**
 * A worker script that does not load: the page ingests itself, with the same result
 * (`parser`: only the parse worker's fails, and the restore worker does it all).
 */
async function fallback(n: number, parser = false): Promise<{ cases: number; workers: number }> {
  const missing = () => new Worker('/no-such-worker.js', { type: 'module' });
  const broken = parser ? workerFullIngest(writerWorker, missing) : workerFullIngest(missing);
  if (broken === undefined) throw new Error('no Worker here');
  const db = await connect(`fallback-${Date.now()}`);
  const r = await broken(db, streamOfChunks(synthRestoreChunks(n).chunks), {});
  const cases = await new CaseDb(db).count();
  db.close();
  await Dexie.delete(db.name);
  if (cases !== r.cases) throw new Error('fallback result and database disagree');
  return { cases, workers: restoreWorkerCount() };
}

Object.assign(globalThis, { fieldsimRestoreWorker: { compare, failing, fallback } });
