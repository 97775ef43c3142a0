/**
 * Chromium side of the restore benchmark (bundled by bench/restore.bench.ts): the full
 * ingest of a synthetic restore into the paged case store, and, for comparison in the
 * same run, a bare Dexie bulkPut of the same cases as one record each (no indexes).
 *
 * Issue 15: the ingest through the PWA's restore Web Worker (`workerIngest`), and the two
 * stages it is bounded by, on the same payload: the parser alone (`parseOnly`) and the
 * packed page and summary records alone (`putOnly`), written with the same batches and
 * transactions in flight as the ingest.
 */

import Dexie from 'dexie';
import { workerFullIngest } from '../src/app/restore-worker/worker-ingest.ts';
import { createDataKey } from '../src/core/crypto/data-key.ts';
import { RecordCipher } from '../src/core/crypto/record-cipher.ts';
import { applyCaseBlock } from '../src/core/protocol/casexml/apply-case-block.ts';
import type { CaseBlock, CaseRecord } from '../src/core/protocol/casexml/case-types.ts';
import { parseRestore } from '../src/core/protocol/restore/restore-parser.ts';
import { CaseCatalog } from '../src/core/store/case-catalog.ts';
import { applyBlocksWith, CaseDb } from '../src/core/store/case-db.ts';
import {
  CASE_PAGE_SIZE,
  CaseWriter,
  type PreparedFlush,
  putFlush,
  sealFlush,
} from '../src/core/store/case-writer.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { streamOfChunks, synthRestoreChunks } from './restore-synth.ts';

const deps = { indexedDB, IDBKeyRange };

interface HeapPerf {
  memory?: { usedJSHeapSize: number };
}

function heap(): number {
  return (performance as unknown as HeapPerf).memory?.usedJSHeapSize ?? 0;
}

async function ingest(cases: number): Promise<{
  ms: number;
  bytes: number;
  heapPeakMb: number;
  stored: number;
  pageMs: number;
  coldOpenMs: number;
}> {
  const { chunks, bytes } = synthRestoreChunks(cases);
  const db = new FieldsimDb(`bench-ingest-${cases}-${Date.now()}`, deps);
  await db.open();
  const base = heap();
  let peak = base;
  const iv = setInterval(() => {
    peak = Math.max(peak, heap());
  }, 20);
  const t0 = performance.now();
  const r = await ingestRestore(db, streamOfChunks(chunks), {
    mode: 'full',
    onProgress: () => {
      peak = Math.max(peak, heap());
    },
  });
  const ms = performance.now() - t0;
  clearInterval(iv);
  const cdb = new CaseDb(db);
  await cdb.query({ caseType: 'member', limit: 50 });
  const t1 = performance.now();
  await cdb.query({ caseType: 'member', limit: 50, offset: 5000 });
  const pageMs = performance.now() - t1;
  db.close();
  // A new connection (page reload): the in-memory catalog is rebuilt from the pages.
  const again = new FieldsimDb(db.name, deps);
  const t2 = performance.now();
  const count = await new CaseDb(again).count();
  const coldOpenMs = performance.now() - t2;
  again.close();
  await Dexie.delete(db.name);
  if (count !== r.cases) throw new Error('cold open lost cases');
  return { ms, bytes, heapPeakMb: (peak - base) / 1e6, stored: r.cases, pageMs, coldOpenMs };
}

/** The same cases as CaseRecords (built outside the timing), bulkPut one record each. */
async function bareBulkPut(cases: number): Promise<{ ms: number }> {
  const { chunks } = synthRestoreChunks(cases);
  const records: CaseRecord[] = [];
  for await (const batch of parseRestore(streamOfChunks(chunks)))
    for (const ev of batch)
      if (ev.kind === 'case') records.push(applyCaseBlock(undefined, ev.block) as CaseRecord);
  const db = new Dexie(`bench-bare-${cases}-${Date.now()}`, deps);
  db.version(1).stores({ cases: '&caseId' });
  await db.open();
  const t0 = performance.now();
  await db.table('cases').bulkPut(records);
  const ms = performance.now() - t0;
  db.close();
  await Dexie.delete(db.name);
  return { ms };
}

/** Events per parser batch and transaction, as the ingest's default. */
const BATCH = 2000;
/** Batch transactions in flight, as the restore worker's. */
const IN_FLIGHT = 3;

/** The parser alone over the payload: batches of events, nothing applied or written. */
async function parseOnly(cases: number): Promise<{ ms: number; events: number }> {
  const { chunks } = synthRestoreChunks(cases);
  let events = 0;
  const t0 = performance.now();
  for await (const batch of parseRestore(streamOfChunks(chunks), { batchSize: BATCH }))
    events += batch.length;
  return { ms: performance.now() - t0, events };
}

/**
 * The packed records the ingest writes (pages of 16 cases and their summary rows, batch by
 * batch, built outside the timing by the same CaseWriter), then written alone: one
 * transaction per batch, up to IN_FLIGHT of them committing at once, as the worker does.
 */
async function putOnly(cases: number, encrypted = false): Promise<{ ms: number; records: number }> {
  const { chunks } = synthRestoreChunks(cases);
  const scratch = new FieldsimDb(`bench-pack-${Date.now()}`, deps);
  const gen = 2;
  const writer = new CaseWriter(scratch, new CaseCatalog(gen, -1), {
    gen,
    version: 0,
    tailPage: -1,
    tailCount: CASE_PAGE_SIZE,
  });
  const c = encrypted ? new RecordCipher((await createDataKey('bench', { iterations: 1000 })).key) : null;
  const flushes: PreparedFlush[] = [];
  for await (const batch of parseRestore(streamOfChunks(chunks), { batchSize: BATCH })) {
    const blocks: CaseBlock[] = [];
    for (const ev of batch) if (ev.kind === 'case') blocks.push(ev.block);
    if (blocks.length === 0) continue;
    await applyBlocksWith(writer, blocks);
    const p = writer.prepareFlush();
    writer.settleFlush(p);
    writer.applyDeltaNow();
    flushes.push(await sealFlush(c, p));
  }
  scratch.close();
  await Dexie.delete(scratch.name);
  const db = new FieldsimDb(`bench-put-${cases}-${Date.now()}`, deps);
  await db.open();
  const t0 = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (const f of flushes) {
    inFlight.push(db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], () => putFlush(db, f)));
    while (inFlight.length > IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  const records = flushes.reduce((n, f) => n + f.puts.length + f.sums.length, 0);
  db.close();
  await Dexie.delete(db.name);
  return { ms, records };
}

/**
 * End to end through the PWA's restore workers, timed from the call to its return: worker
 * start, the body streamed into it, parse, case rules, packed writes, purge, the switch,
 * and the page's catalog reloaded (and name-ordered) from the new generation.
 */
async function workerIngest(
  cases: number,
  encrypted = false,
  single = false,
): Promise<{ ms: number; stored: number; heapPeakMb: number; progressEvents: number }> {
  const { chunks } = synthRestoreChunks(cases);
  const db = new FieldsimDb(`bench-worker-${cases}-${Date.now()}`, deps);
  if (encrypted) db.vault.open(new RecordCipher((await createDataKey('bench', { iterations: 1000 })).key));
  await db.open();
  // The PWA's pair of workers (parse, write); `single`: the restore worker alone, as before
  // session 9, for an A/B in the same run.
  const run = workerFullIngest(
    () => new Worker('/restore-worker.js', { type: 'module' }),
    single ? undefined : () => new Worker('/restore-parse-worker.js', { type: 'module' }),
  );
  if (run === undefined) throw new Error('no Worker in this page');
  const base = heap();
  let peak = base;
  let progressEvents = 0;
  const t0 = performance.now();
  const r = await run(db, streamOfChunks(chunks), {
    onProgress: () => {
      progressEvents++;
      peak = Math.max(peak, heap());
    },
  });
  const ms = performance.now() - t0;
  const count = await new CaseDb(db).count();
  db.close();
  await Dexie.delete(db.name);
  if (count !== r.cases)
    throw new Error(`worker ingest: result says ${r.cases}, the database holds ${count}`);
  return { ms, stored: r.cases, heapPeakMb: (peak - base) / 1e6, progressEvents };
}

Object.assign(globalThis, { fieldsimBench: { ingest, bareBulkPut, parseOnly, putOnly, workerIngest } });
