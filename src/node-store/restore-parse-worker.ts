import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isFieldsimError } from '../core/errors/fieldsim-error.ts';
import type { CaseRecord } from '../core/protocol/casexml/case-types.ts';
import { parseRestore } from '../core/protocol/restore/restore-parser.ts';
import { MAX_BATCH_CHARS, PARSE_STEP, summaryOf, WireBatchBuilder } from '../core/store/restore-pipe-wire.ts';
import { emptyPacked, PagePacker } from './restore-page-packer.ts';
import type { FromThread, ParseThreadInput, ToThread, WireError } from './restore-parse-messages.ts';

/**
 * The restore parse thread: runs the core's `parseRestore` on chunks the main thread
 * sends, and posts its batches back (restore-parse-thread.ts). It reports each chunk it
 * takes (the main thread keeps a few queued ahead) and stops parsing while `window`
 * batches are unacknowledged, so its memory stays a few batches whatever the payload.
 */

const port = parentPort;
if (port === null) throw new Error('restore-parse-worker runs as a worker thread');
const input = workerData as ParseThreadInput;
const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

let wake: (() => void) | null = null;
const inbox: ToThread[] = [];
let acked = 0;
port.on('message', (m: ToThread) => {
  if (m.type === 'ack') acked++;
  else inbox.push(m);
  const w = wake;
  wake = null;
  w?.();
});

function waitMessage(): Promise<void> {
  return new Promise((resolve) => {
    wake = resolve;
  });
}

async function* chunks(): AsyncGenerator<Uint8Array | string> {
  while (true) {
    while (inbox.length === 0) await waitMessage();
    const m = inbox.shift() as ToThread;
    if (m.type === 'end') return;
    if (m.type === 'chunk') {
      post({ type: 'taken' });
      yield m.data;
    }
  }
}

function wireError(e: unknown): WireError {
  if (isFieldsimError(e)) {
    const x = e as unknown as Record<string, unknown>;
    const out: WireError = { name: e.name, code: e.code, message: e.message };
    for (const k of ['line', 'column', 'path', 'caseId'] as const)
      if (x[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = x[k];
    return out;
  }
  return { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) };
}

/** Bytes of packed rows per batch at most (about 250 cases, the ingest's batch, are ~1 MB). */
const PACK_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Apply-first, the batch's strings and the summaries' encoding are core's wire
 * (restore-pipe-wire.ts, shared with the browser's parse worker); packed pages travel
 * beside them, `p` in the batch's order.
 */
const wire = new WireBatchBuilder({
  applyCases: input.applyCases,
  jsonSummaries: true,
  ...(input.collide !== undefined ? { collide: input.collide } : {}),
});
const packer =
  input.pack !== undefined && input.applyCases ? new PagePacker(input.pack.gen, input.pack.pageSize) : null;
let packed = emptyPacked();

/**
 * The WAL checkpoint of the file being restored into, run here while this thread waits
 * for the main thread to take its batches (it is ahead, so the time is free). A 100k-case
 * restore appends ~110 MB to the WAL; copied into the database file by the switch's
 * automatic checkpoint, that was ~0.3-0.8 s of the main thread (page copies and two
 * fsyncs). A PASSIVE checkpoint from this connection copies what the main thread has
 * committed so far, never waits on it, and syncs as SQLite always does (the WAL before
 * the copy, the file after), so a kill at any point leaves what SQLite's own checkpoint
 * would. At most one per `CHECKPOINT_EVERY_MS`: each costs two fsyncs.
 */
const CHECKPOINT_EVERY_MS = 250;
let checkpointDb: Database.Database | null | undefined;
let lastCheckpoint = performance.now();

function checkpoint(): void {
  if (input.checkpointFile === undefined || checkpointDb === null) return;
  if (performance.now() - lastCheckpoint < CHECKPOINT_EVERY_MS) return;
  try {
    checkpointDb ??= new Database(input.checkpointFile, { fileMustExist: true, timeout: 0 });
    checkpointDb.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy, or the file is gone or not in WAL mode: the main thread's checkpoint at the
    // switch does it all, as without this thread's help.
    checkpointDb?.close();
    checkpointDb = null;
  }
  lastCheckpoint = performance.now();
}

async function send(sent: number): Promise<void> {
  const rowBytes = packed.pages.length > 0 ? packed.rows.take() : null;
  post(
    {
      type: 'batch',
      ...wire.take(0),
      ...(rowBytes !== null
        ? { pages: packed.pages, rowBytes, rowBounds: packed.bounds, pageSums: `[${packed.sums.join(',')}]` }
        : {}),
    } satisfies FromThread,
    rowBytes === null ? [] : [rowBytes.buffer as ArrayBuffer],
  );
  packed = emptyPacked();
  if (sent - acked >= input.window) checkpoint();
  while (sent - acked >= input.window) await waitMessage();
}

/** A new case onto the open page; `p` when that fills the page. */
function pack(p: PagePacker, rec: CaseRecord): void {
  const sum = summaryOf(rec);
  wire.countHosted();
  if (p.add(packed, JSON.stringify(rec), sum)) wire.markHosted('p');
}

async function run(): Promise<void> {
  let sent = 0;
  const target = input.batchSize ?? 2000;
  try {
    for await (const batch of parseRestore(chunks(), {
      batchSize: input.applyCases ? Math.min(target, PARSE_STEP) : target,
      ...(input.maxTokenChars !== undefined ? { maxTokenChars: input.maxTokenChars } : {}),
      ...(input.maxDepth !== undefined ? { maxDepth: input.maxDepth } : {}),
      ...(input.limits !== undefined ? { limits: input.limits } : {}),
    })) {
      for (const ev of batch) {
        if (packer === null || ev.kind !== 'case') {
          wire.add(ev);
          continue;
        }
        const rec = wire.firstRecord(ev.block);
        if (rec !== undefined) {
          pack(packer, rec);
          continue;
        }
        // A raw block: its case may sit on the open page or a page of this batch, which
        // the main thread writes after the batch's raw blocks (packed-pages.ts).
        if (packer.close(packed)) wire.markHosted('p');
        if (packed.pages.length > 0) await send(++sent);
        packer.raw();
        wire.addBlock(ev.block);
      }
      // Without `applyCases`, the parser's own batches, one for one (parseRestore's contract).
      if (
        !input.applyCases ||
        wire.size >= target ||
        wire.chars >= MAX_BATCH_CHARS ||
        packed.rows.length >= PACK_BATCH_BYTES
      )
        await send(++sent);
    }
    if (packer?.close(packed)) wire.markHosted('p');
    if (wire.pending) await send(++sent);
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', error: wireError(e) });
  }
}

void run();
