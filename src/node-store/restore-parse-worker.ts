import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isFieldsimError } from '../core/errors/fieldsim-error.ts';
import { applyCaseBlock } from '../core/protocol/casexml/apply-case-block.ts';
import type { CaseBlock, CaseRecord } from '../core/protocol/casexml/case-types.ts';
import { parseRestore } from '../core/protocol/restore/restore-parser.ts';
import type { CaseSummaryTuple, RestoreEvent } from '../core/protocol/restore/restore-types.ts';
import { emptyPacked, type PackedOut, PagePacker } from './restore-page-packer.ts';
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

/** FNV-1a of a case id: the ids seen so far are kept as numbers, not as strings. */
function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  // 30 bits: a small integer (Smi) in V8, not a heap number per entry.
  return h & 0x3fffffff;
}

/**
 * Case ids already named by the payload. A collision only sends a first block raw, which
 * the main thread applies as any other, so hashes are enough (4 bytes of a Set entry a
 * case, where the id strings, slices of the payload's text, would keep all of it alive).
 */
const seen = new Set<number>();

/**
 * The first block of a case the payload has not named before, applied as the full
 * ingest would apply it to the empty new generation (`applyCaseBlock(undefined, b)`);
 * undefined to send the block as it is (a later block of a case, or one the rules refuse,
 * which the main thread refuses in turn, in order, with the same typed error).
 */
interface Applied {
  json: string;
  summary: CaseSummaryTuple;
}

function applyFirst(b: CaseBlock): Applied | undefined {
  const id = b.caseId.trim();
  if (id === '') return undefined;
  const h = idHash(id);
  if (seen.has(h)) return undefined;
  seen.add(h);
  if (input.collide?.test(id)) return undefined;
  if (b.actions.length === 0) return undefined;
  let rec: CaseRecord | undefined;
  try {
    rec = applyCaseBlock(undefined, b);
  } catch {
    return undefined;
  }
  if (rec === undefined) return undefined;
  return {
    json: JSON.stringify(rec),
    summary: [
      rec.caseId,
      rec.caseType,
      rec.caseName,
      rec.ownerId,
      rec.closed ? 1 : 0,
      rec.lastModified,
      rec.indices,
    ],
  };
}

/**
 * With `applyCases`, the parser runs in small batches and each event is encoded at once,
 * so its object graph dies young; the strings are gathered up to the batch size the
 * ingest asked for (or `MAX_BATCH_CHARS`). Handing whole batches of 250 parsed blocks to
 * the encoder measured ~30% of the thread's time in GC (the batch outlived scavenges and
 * was promoted).
 */
const PARSE_STEP = 16;
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

/** Bytes of packed rows per batch at most (about 250 cases, the ingest's batch, are ~1 MB). */
const PACK_BATCH_BYTES = 4 * 1024 * 1024;

interface Pending {
  order: string;
  blocks: string[];
  records: string[];
  summaries: string[];
  other: RestoreEvent[];
  chars: number;
  packed: PackedOut;
  /** Events in the batch, a packed case counting as one. */
  events: number;
}

const empty = (): Pending => ({
  order: '',
  blocks: [],
  records: [],
  summaries: [],
  other: [],
  chars: 0,
  packed: emptyPacked(),
  events: 0,
});

const packer =
  input.pack !== undefined && input.applyCases ? new PagePacker(input.pack.gen, input.pack.pageSize) : null;

/** Adds a non-case event, or a case block as it travels: `a` applied, else raw. */
function add(p: Pending, ev: RestoreEvent, a: Applied | undefined): void {
  p.events++;
  if (ev.kind !== 'case') {
    p.order += 'o';
    p.other.push(ev);
  } else if (a === undefined) {
    const json = JSON.stringify(ev.block);
    p.order += 'b';
    p.blocks.push(json);
    p.chars += json.length;
  } else if (packer !== null) {
    if (packer.add(p.packed, a.json, a.summary)) p.order += 'p';
  } else {
    const sum = JSON.stringify(a.summary);
    p.order += 'a';
    p.records.push(a.json);
    p.summaries.push(sum);
    p.chars += a.json.length + sum.length;
  }
}

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

async function send(p: Pending, sent: number): Promise<void> {
  const { packed } = p;
  const rowBytes = packed.pages.length > 0 ? packed.rows.take() : null;
  post(
    {
      type: 'batch',
      order: p.order,
      blocks: `[${p.blocks.join(',')}]`,
      records: p.records.join('\n'),
      summaries: `[${p.summaries.join(',')}]`,
      other: p.other,
      ...(rowBytes !== null
        ? { pages: packed.pages, rowBytes, rowBounds: packed.bounds, pageSums: `[${packed.sums.join(',')}]` }
        : {}),
    } satisfies FromThread,
    rowBytes === null ? [] : [rowBytes.buffer as ArrayBuffer],
  );
  if (sent - acked >= input.window) checkpoint();
  while (sent - acked >= input.window) await waitMessage();
}

async function run(): Promise<void> {
  let sent = 0;
  const target = input.batchSize ?? 2000;
  try {
    let p = empty();
    for await (const batch of parseRestore(chunks(), {
      batchSize: input.applyCases ? Math.min(target, PARSE_STEP) : target,
      ...(input.maxTokenChars !== undefined ? { maxTokenChars: input.maxTokenChars } : {}),
      ...(input.maxDepth !== undefined ? { maxDepth: input.maxDepth } : {}),
      ...(input.limits !== undefined ? { limits: input.limits } : {}),
    })) {
      for (const ev of batch) {
        const a = ev.kind === 'case' && input.applyCases ? applyFirst(ev.block) : undefined;
        if (packer !== null && ev.kind === 'case' && a === undefined) {
          // A raw block: its case may sit on the open page or a page of this batch, which
          // the main thread writes after the batch's raw blocks (packed-pages.ts).
          if (packer.close(p.packed)) p.order += 'p';
          if (p.packed.pages.length > 0) {
            await send(p, ++sent);
            p = empty();
          }
          packer.raw();
        }
        add(p, ev, a);
      }
      // Without `applyCases`, the parser's own batches, one for one (parseRestore's contract).
      if (
        !input.applyCases ||
        p.events >= target ||
        p.chars >= MAX_BATCH_CHARS ||
        p.packed.rows.length >= PACK_BATCH_BYTES
      ) {
        await send(p, ++sent);
        p = empty();
      }
    }
    if (packer?.close(p.packed)) p.order += 'p';
    if (p.order.length > 0) await send(p, ++sent);
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', error: wireError(e) });
  }
}

void run();
