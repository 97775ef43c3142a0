import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isErrorCode } from '../core/errors/codes.ts';
import { FieldsimError } from '../core/errors/fieldsim-error.ts';
import { NetworkError } from '../core/errors/network-error.ts';
import { XmlError } from '../core/errors/xml-error.ts';
import type { StagedTarget } from '../core/platform.ts';
import {
  chunksOf,
  type RestoreBody,
  type RestoreParseOptions,
} from '../core/protocol/restore/restore-parser.ts';
import type { CaseSummaryTuple, RestoreEvent } from '../core/protocol/restore/restore-types.ts';
import { CASE_PAGE_SIZE } from '../core/store/case-writer.ts';
import { decodeWireBatch, RestorePipeError } from '../core/store/restore-pipe-wire.ts';
import { EncodedRow } from './encoded-row.ts';
import type {
  FromThread,
  ParseThreadInput,
  ToThread,
  WireBatch,
  WireError,
} from './restore-parse-messages.ts';
import { afterWorkerOnline, beforeWorkerSpawn } from './young-gen-cap.ts';

/**
 * `parseRestore` in a worker thread (issue 15): the XML tokenizer and the restore parser, ~20% of a
 * 100k-case restore's CPU on the main thread, run on another core while the main thread
 * applies the case rules and writes SQLite. The body is read here (a fetch body belongs
 * to this thread) and its chunks are moved to the thread as it asks for them; batches
 * come back as compact messages (restore-parse-messages.ts). Same contract as
 * `parseRestore`: the same events in the same batches, the same typed errors (an
 * `XmlError` in the thread is an `XmlError` here), `onBytes` and `signal`. A thread that
 * dies without an answer is a typed `RestoreThreadError`; either way the caller's ingest
 * fails before its switch, so the old generation stays.
 */

/** The thread died, exited or sent something unreadable before the end of the payload. */
export class RestoreThreadError extends FieldsimError {
  override readonly name = 'RestoreThreadError';
  constructor(message: string, cause?: unknown) {
    super('restore-parser-failed', message, cause === undefined ? {} : { cause });
  }
}

/** Batches the thread parses ahead of the one being written. */
export const PARSE_WINDOW = 2;

/** Body chunks (~64 KB from a fetch) queued for the thread ahead of its parser. */
export const CHUNKS_AHEAD = 8;

export interface ParseThreadOptions {
  /** Starts the thread (tests start broken ones); the real entry by default. */
  spawn?: (input: ParseThreadInput) => Worker;
  window?: number;
  /** See `ParseThreadInput.applyCases`; off by default (the events of `parseRestore`). */
  applyCases?: boolean;
  /** See `ParseThreadInput.checkpointFile`. */
  checkpointFile?: string;
  /** Pack new cases into pages of this staged generation (needs `applyCases`). */
  pack?: StagedTarget;
  /** See `ParseThreadInput.collide`. */
  collide?: RegExp;
}

/**
 * Young generation of the thread (3 x 16 MB semi-spaces would be V8's default). Measured
 * on 100k cases, worker CPU profile: at 4 MB, 34% of the thread's time in GC (short-lived
 * parse objects promoted, then collected by full GCs under the CLI's tight heap growth,
 * heap-growth.ts); at 16 MB, 12%. The CLI's 50k-case restore peaked at ~207 MB either way
 * once the thread encoded each event at once (restore-parse-worker.ts).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 16 };

/**
 * The thread entry: the compiled one next to this file, or, when this file runs as
 * TypeScript source (tests, the benchmarks), the source through tsx's require hook (Node
 * 20 applies no ESM loader hooks inside a worker thread; as src/cli/runner/run-threads.ts).
 */
export function spawnParseThread(input: ParseThreadInput): Worker {
  beforeWorkerSpawn();
  const worker = startThread(input);
  worker.once('online', afterWorkerOnline);
  worker.once('exit', afterWorkerOnline);
  return worker;
}

function startThread(input: ParseThreadInput): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./restore-parse-worker.js', import.meta.url), {
      workerData: input,
      resourceLimits: THREAD_LIMITS,
    });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const file = fileURLToPath(new URL('./restore-parse-worker.ts', import.meta.url));
  return new Worker(`require(${JSON.stringify(tsx)}).require(${JSON.stringify(file)}, __filename)`, {
    eval: true,
    workerData: input,
    resourceLimits: THREAD_LIMITS,
  });
}

/** The parser's error, typed again as the class it was thrown as. */
export function rebuildError(w: WireError): FieldsimError {
  const code = w.code !== undefined && isErrorCode(w.code) ? w.code : undefined;
  if (w.name === 'XmlError' && code !== undefined)
    return new XmlError(code as ConstructorParameters<typeof XmlError>[0], w.message, {
      ...(w.line !== undefined ? { line: w.line } : {}),
      ...(w.column !== undefined ? { column: w.column } : {}),
      ...(w.path !== undefined ? { path: w.path } : {}),
      ...(w.caseId !== undefined ? { caseId: w.caseId } : {}),
    });
  if (w.name === 'NetworkError' && code !== undefined)
    return new NetworkError(code as ConstructorParameters<typeof NetworkError>[0], w.message);
  if (code !== undefined) return new FieldsimError(code, w.message);
  return new RestoreThreadError(`The restore parser failed: ${w.name}: ${w.message}`);
}

/** Row `i` of a batch's row bytes, a Buffer over the same memory (moved here, not copied). */
function rowOf(bytes: Uint8Array, bounds: readonly number[], i: number): Buffer {
  const start = bounds[2 * i];
  const end = bounds[2 * i + 1];
  if (start === undefined || end === undefined || start < 0 || end < start || end > bytes.byteLength)
    throw new RestoreThreadError('The restore parser sent an inconsistent batch');
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
}

/** Core's batch decoding (restore-pipe-wire.ts), with the batch's packed pages for `p`. */
function decodeBatch(m: WireBatch, gen: number | undefined): RestoreEvent[] {
  let pageSums: CaseSummaryTuple[][];
  try {
    pageSums = m.pageSums === undefined ? [] : (JSON.parse(m.pageSums) as CaseSummaryTuple[][]);
  } catch (e) {
    throw new RestoreThreadError('The restore parser sent an unreadable batch', e);
  }
  const pages = m.pages ?? [];
  const bytes = m.rowBytes ?? new Uint8Array(0);
  const bounds = m.rowBounds ?? [];
  if (
    pages.length !== pageSums.length ||
    bounds.length !== 4 * pages.length ||
    (pages.length > 0 && gen === undefined)
  )
    throw new RestoreThreadError('The restore parser sent an inconsistent batch');
  let p = 0;
  const page = (k: number): RestoreEvent | undefined => {
    const n = pages[p];
    const sums = pageSums[p];
    if (k !== 112 /* p */ || n === undefined || sums === undefined) return undefined;
    const g = gen as number;
    const ev: RestoreEvent = {
      kind: 'case-page',
      page: {
        page: n,
        summaries: sums,
        pageRow: new EncodedRow(g, n, rowOf(bytes, bounds, 2 * p)),
        sumRow: new EncodedRow(g, n, rowOf(bytes, bounds, 2 * p + 1)),
      },
    };
    p++;
    return ev;
  };
  let out: RestoreEvent[];
  try {
    out = decodeWireBatch(m, page, { jsonSummaries: true });
  } catch (e) {
    // This side's failures are RestoreThreadErrors (the same code as core's).
    if (e instanceof RestorePipeError) throw new RestoreThreadError(e.message, e.cause);
    throw e;
  }
  if (p !== pages.length) throw new RestoreThreadError('The restore parser sent an inconsistent batch');
  return out;
}

function aborted(signal: AbortSignal): FieldsimError {
  return new FieldsimError('aborted', 'The restore was cancelled', { cause: signal.reason });
}

/** Moves a chunk's bytes to the thread without a copy when it owns its whole buffer. */
function chunkMessage(c: Uint8Array | string): { msg: ToThread; transfer: ArrayBuffer[] } {
  if (typeof c === 'string') return { msg: { type: 'chunk', data: c }, transfer: [] };
  const whole = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer;
  const data = whole ? c : c.slice();
  return { msg: { type: 'chunk', data }, transfer: [data.buffer as ArrayBuffer] };
}

export async function* parseRestoreInThread(
  body: RestoreBody,
  opts: RestoreParseOptions = {},
  threadOpts: ParseThreadOptions = {},
): AsyncGenerator<RestoreEvent[], void, undefined> {
  const { signal } = opts;
  if (signal?.aborted) throw aborted(signal);
  const input: ParseThreadInput = {
    window: Math.max(1, threadOpts.window ?? PARSE_WINDOW),
    applyCases: threadOpts.applyCases === true,
    ...(threadOpts.checkpointFile !== undefined ? { checkpointFile: threadOpts.checkpointFile } : {}),
    ...(threadOpts.pack !== undefined && threadOpts.applyCases === true
      ? { pack: { gen: threadOpts.pack.gen, pageSize: CASE_PAGE_SIZE } }
      : {}),
    ...(threadOpts.collide !== undefined ? { collide: threadOpts.collide } : {}),
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.maxTokenChars !== undefined ? { maxTokenChars: opts.maxTokenChars } : {}),
    ...(opts.maxDepth !== undefined ? { maxDepth: opts.maxDepth } : {}),
    ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
  };
  const worker = (threadOpts.spawn ?? spawnParseThread)(input);
  const source = chunksOf(body)[Symbol.asyncIterator]();
  const inbox: FromThread[] = [];
  let failure: FieldsimError | null = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (e: FieldsimError): void => {
    failure ??= e;
    notify();
  };
  let bytes = 0;
  let reading = false;
  let ended = false;
  let queued = 0;
  // Chunks are read and sent ahead of the thread's needs (up to CHUNKS_AHEAD): it asks
  // through this thread's event loop, which is busy writing a batch most of the time, so
  // a thread fed one chunk per request would wait for every write. Reading no further
  // ahead than that holds back a download the writes cannot keep up with.
  const pump = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      while (!ended && queued < CHUNKS_AHEAD && failure === null) {
        const r = await source.next();
        if (signal?.aborted) throw aborted(signal);
        if (r.done) {
          ended = true;
          worker.postMessage({ type: 'end' } satisfies ToThread);
        } else {
          bytes += typeof r.value === 'string' ? r.value.length : r.value.byteLength;
          const { msg, transfer } = chunkMessage(r.value);
          worker.postMessage(msg, transfer);
          queued++;
          opts.onBytes?.(bytes);
        }
      }
    } catch (e) {
      fail(e instanceof FieldsimError ? e : new RestoreThreadError('Reading the restore failed', e));
    } finally {
      reading = false;
    }
  };
  worker.on('message', (m: FromThread) => {
    if (m.type === 'taken') {
      queued--;
      void pump();
    } else {
      inbox.push(m);
      notify();
    }
  });
  worker.on('error', (e) =>
    fail(new RestoreThreadError(`The restore parser thread failed: ${e.message}`, e)),
  );
  worker.on('exit', (code) => {
    if (!finished)
      fail(new RestoreThreadError(`The restore parser thread exited (code ${code}) before the end`));
  });
  const onAbort = (): void => fail(aborted(signal as AbortSignal));
  signal?.addEventListener('abort', onAbort, { once: true });
  void pump();
  try {
    while (true) {
      while (inbox.length === 0 && failure === null)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      // A message that came before the failure is still delivered in order; an abort wins.
      if (failure !== null && (signal?.aborted || inbox.length === 0)) throw failure;
      const m = inbox.shift() as FromThread;
      if (m.type === 'error') throw rebuildError(m.error);
      if (m.type === 'done') {
        finished = true;
        return;
      }
      if (m.type !== 'batch') throw new RestoreThreadError(`The restore parser sent an unknown message`);
      yield decodeBatch(m, input.pack?.gen);
      worker.postMessage({ type: 'ack' } satisfies ToThread);
    }
  } finally {
    finished = true;
    signal?.removeEventListener('abort', onAbort);
    if (!ended) void source.return?.(undefined)?.catch(() => undefined);
    // Awaited: the thread's heap is gone before the purge and the switch, when the
    // catalog is complete and the main thread's memory peaks.
    await worker.terminate();
  }
}

/**
 * The `restoreParser` of a file store (sqlite-store.ts): a full restore parsed in the
 * thread, which applies each case's first block too, so the main thread stores most
 * cases as they arrive, without parsing, applying or encoding them.
 */
export function parseFullRestoreInThread(
  body: RestoreBody,
  opts: RestoreParseOptions,
  staged?: StagedTarget,
): AsyncGenerator<RestoreEvent[], void, undefined> {
  return parseRestoreInThread(body, opts, { applyCases: true, ...(staged ? { pack: staged } : {}) });
}

/**
 * `parseFullRestoreInThread` for a restore into `file`, whose WAL the thread checkpoints;
 * given a staged generation (a plain database), the thread packs its pages too.
 */
export function fullRestoreParserFor(
  file: string,
): (
  body: RestoreBody,
  opts: RestoreParseOptions,
  staged?: StagedTarget,
) => AsyncGenerator<RestoreEvent[], void, undefined> {
  return (body, opts, staged) =>
    parseRestoreInThread(body, opts, {
      applyCases: true,
      checkpointFile: file,
      ...(staged ? { pack: staged } : {}),
    });
}
