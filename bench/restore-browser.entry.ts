/**
 * Chromium side of the restore benchmark (bundled by bench/restore.bench.ts): the full
 * ingest of a synthetic restore into the paged case store, and, for comparison in the
 * same run, a bare Dexie bulkPut of the same cases as one record each (no indexes).
 */
import Dexie from 'dexie';
import { applyCaseBlock } from '../src/core/protocol/casexml/apply-case-block.ts';
import type { CaseRecord } from '../src/core/protocol/casexml/case-types.ts';
import { parseRestore } from '../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../src/core/store/case-db.ts';
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

Object.assign(globalThis, { fieldsimBench: { ingest, bareBulkPut } });
