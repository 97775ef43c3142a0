import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import { forgetCatalog, loadCatalog } from '../../core/store/case-writer.ts';
import { adoptAssembled, CatalogAssembler } from '../../core/store/catalog-stream.ts';
import type { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import { type IngestOptions, type IngestResult, resetCaseData } from '../../core/store/restore-ingest.ts';
import type { FullIngest } from '../../core/sync/restore-flow.ts';
import type { FromParseWorker, IngestRequest, ToParseWorker, WireError, WorkerReply } from './protocol.ts';

/**
 * The page's side of the restore worker (restore-worker.ts): a `FullIngest` for the
 * session platform. The session still fetches the restore (same client, auth, 202/429
 * waits and typed HTTP errors, under its data lock); the 200 body is transferred to a
 * fresh worker, which parses, applies and writes it while this thread stays free, and
 * hands back the switched generation's case catalog, which the page adopts (or, if the
 * database moved on meanwhile, reloads from the database).
 *
 * With a second worker (`makeParseWorker`), the restore runs over two threads: the parse
 * worker reads and parses the body and applies each case's first block, the restore
 * worker packs and writes (docs/pwa.md, "Restore over two workers"); this page connects
 * them with a MessageChannel and stops both together. Without one, or if it cannot start,
 * the restore worker does everything.
 *
 * Falls back to the ingest on this thread when no worker can start (no Worker, or a
 * browser that cannot transfer streams): before anything of the body was read, so
 * nothing is lost either way.
 */

const catalogSources = new WeakMap<FieldsimDb, 'worker' | 'database'>();

/**
 * Where the last worker restore on `db` got the page's case catalog: handed over by the
 * worker, or loaded from the database (the worker sent none, or another writer changed
 * the cases meanwhile). For tests and diagnostics.
 */
export function catalogSourceOf(db: FieldsimDb): 'worker' | 'database' | undefined {
  return catalogSources.get(db);
}

/** Running restore workers, each with what stops it and fails its restore. */
const live = new Map<Worker, (e: unknown) => void>();

/**
 * Stops every restore worker of this page (logout, data deleted): each restore fails with
 * `aborted`, and a generation not yet switched stays unswitched (the next restore removes
 * its pages).
 */
export function stopRestoreWorkers(why = 'The restore was stopped: the session closed'): void {
  for (const stop of [...live.values()]) stop(new FieldsimError('aborted', why));
}

/** Restores running in a worker right now. */
export function restoreWorkerCount(): number {
  return live.size;
}

function revive(e: WireError): FieldsimError {
  const err = new FieldsimError(e.code as FieldsimError['code'], e.message, { retryable: e.retryable });
  // The class name (NetworkError, StorageError, ...) for messages and logs; callers act on `code`.
  Object.defineProperty(err, 'name', { value: e.name });
  return err;
}

function cancelled(signal: AbortSignal): FieldsimError {
  return new FieldsimError('aborted', 'The restore was cancelled', { cause: signal.reason });
}

/** Resolves with the worker once it said it runs, or with null if it failed to start. */
function started(w: Worker): Promise<Worker | null> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      w.removeEventListener('message', onMsg);
      w.removeEventListener('error', onErr);
      resolve(ok ? w : null);
    };
    const onMsg = (ev: MessageEvent<WorkerReply>) => {
      if (ev.data.type === 'ready') done(true);
    };
    const onErr = (ev: Event) => {
      ev.preventDefault();
      done(false);
    };
    w.addEventListener('message', onMsg);
    w.addEventListener('error', onErr);
  });
}

/** A worker from `make` once it runs; null if there is none or it failed to start. */
async function start(make: (() => Worker) | undefined): Promise<Worker | null> {
  if (make === undefined) return null;
  try {
    return await started(make());
  } catch {
    return null;
  }
}

/**
 * The catalog of the switched generation, in place and name-ordered before the restore
 * returns: the one assembled from the worker's pieces when they add up to the live
 * generation, else loaded from the database.
 */
async function refreshCatalog(
  db: FieldsimDb,
  asm: CatalogAssembler,
  at: { gen: number; version: number; count: number } | null,
): Promise<void> {
  if (at !== null && (await adoptAssembled(db, asm, at))) {
    catalogSources.set(db, 'worker');
    return;
  }
  catalogSources.set(db, 'database');
  forgetCatalog(db);
  const { cat } = await loadCatalog(db);
  cat.byName();
}

/**
 * Messages of body chunks sent to the parse worker ahead of its parser: it asks for more
 * as it takes them, and a download the writes cannot keep up with is held back.
 */
const MESSAGES_AHEAD = 4;

/**
 * Bytes of body gathered per message. Every message costs both threads a fixed ~0.5 ms
 * or more on a busy machine (session 9: 1,018 messages of one 64 KB chunk each, and as
 * many replies, took the parse worker ~0.75 s); 256 KB makes it ~250 of each per 100k cases.
 */
const MESSAGE_BYTES = 256 * 1024;

/**
 * Reads the body on this page and moves its chunks to the parse worker, their buffers
 * transferred. Reading a transferred stream in the worker cost it ~0.8 ms a chunk (~16% of
 * the parse thread's time on 100k cases, CPU profile, session 9); this page is idle
 * during the restore. `cancel` stops the download (logout, abort, failure).
 */
function feedParser(parser: Worker, body: ReadableStream<Uint8Array>): { cancel: () => void } {
  const reader = body.getReader();
  const post = (m: ToParseWorker, transfer: Transferable[] = []): void => parser.postMessage(m, transfer);
  let queued = 0;
  let reading = false;
  let over = false;
  const pump = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      while (!over && queued < MESSAGES_AHEAD) {
        const data: Uint8Array[] = [];
        let size = 0;
        let done = false;
        while (size < MESSAGE_BYTES) {
          const r = await reader.read();
          if (over) return;
          if (r.done) {
            done = true;
            break;
          }
          const c = r.value;
          const whole =
            c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer;
          data.push(whole ? c : c.slice());
          size += c.byteLength;
        }
        if (data.length > 0) {
          post(
            { type: 'chunks', data },
            data.map((d) => d.buffer as ArrayBuffer),
          );
          queued++;
        }
        if (done) {
          over = true;
          post({ type: 'end' });
        }
      }
    } catch (e) {
      if (over) return;
      over = true;
      const err = e instanceof Error ? e : new Error(String(e));
      post({ type: 'fail', name: err.name, message: err.message });
    } finally {
      reading = false;
    }
  };
  parser.addEventListener('message', (ev: MessageEvent<FromParseWorker>) => {
    if (ev.data.type !== 'taken') return;
    queued--;
    void pump();
  });
  void pump();
  return {
    cancel: () => {
      if (over) return;
      over = true;
      reader.cancel().catch(() => undefined);
    },
  };
}

function run(
  w: Worker,
  parser: Worker | null,
  db: FieldsimDb,
  body: ReadableStream<Uint8Array>,
  opts: Omit<IngestOptions, 'mode'>,
): Promise<IngestResult> {
  return new Promise<IngestResult>((resolve, reject) => {
    let feeder: { cancel: () => void } | undefined;
    const end = (): void => {
      w.terminate();
      parser?.terminate();
      feeder?.cancel();
      live.delete(w);
    };
    const stop = (e: unknown) => {
      end();
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e);
    };
    live.set(w, stop);
    const onAbort = () => stop(cancelled(opts.signal as AbortSignal));
    opts.signal?.addEventListener('abort', onAbort);
    const asm = new CatalogAssembler();
    w.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const m = ev.data;
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'catalog-piece') asm.add(m.piece);
      else if (m.type === 'error') stop(revive(m.error));
      else if (m.type === 'done') {
        end();
        opts.signal?.removeEventListener('abort', onAbort);
        refreshCatalog(db, asm, m.catalog).then(() => resolve(m.result), reject);
      }
    };
    w.onerror = (ev) => {
      // An exception the worker did not catch (it reports its own failures as messages).
      ev.preventDefault();
      stop(new FieldsimError('storage-error', `The restore worker failed: ${ev.message || 'unknown error'}`));
    };
    if (parser !== null)
      parser.onerror = (ev) => {
        ev.preventDefault();
        stop(
          new FieldsimError(
            'restore-parser-failed',
            `The restore's parse worker failed: ${ev.message || 'unknown error'}`,
          ),
        );
      };
    const key = db.vault.cipher()?.key ?? null;
    const { purge, reapplyBlocks, bytesTotal, batchSize, inFlight } = opts;
    let parsePort: MessagePort | undefined;
    if (parser !== null) {
      const ch = new MessageChannel();
      parser.postMessage(
        {
          type: 'parse',
          port: ch.port1,
          ...(batchSize === undefined ? {} : { batchSize }),
        } satisfies ToParseWorker,
        [ch.port1],
      );
      parsePort = ch.port2;
    }
    const req: IngestRequest = {
      type: 'ingest',
      dbName: db.name,
      key,
      body: parsePort === undefined ? body : null,
      ...(parsePort === undefined ? {} : { parsePort }),
      opts: {
        ...(purge === undefined ? {} : { purge }),
        ...(reapplyBlocks === undefined ? {} : { reapplyBlocks }),
        ...(bytesTotal === undefined ? {} : { bytesTotal }),
        ...(batchSize === undefined ? {} : { batchSize }),
        ...(inFlight === undefined ? {} : { inFlight }),
      },
    };
    try {
      w.postMessage(req, parsePort === undefined ? [body as unknown as Transferable] : [parsePort]);
    } catch (e) {
      stop(e);
      return;
    }
    if (parser !== null) feeder = feedParser(parser, body);
  });
}

/**
 * A `FullIngest` that runs each full restore in a new worker from `makeWorker`; undefined
 * where this realm has no Worker (the session then ingests on its own thread).
 */
export function workerFullIngest(
  makeWorker: () => Worker,
  makeParseWorker?: () => Worker,
): FullIngest | undefined {
  if (typeof Worker === 'undefined') return undefined;
  return async (db, body, opts) => {
    if (opts.signal?.aborted) throw cancelled(opts.signal);
    // Throws `data-locked` here, on the page, when the key is not open.
    db.vault.cipher();
    const [w, parser] = await Promise.all([start(makeWorker), start(makeParseWorker)]);
    if (w === null) {
      parser?.terminate();
      return resetCaseData(db, body, opts);
    }
    try {
      return await run(w, parser, db, body, opts);
    } catch (e) {
      // The stream could not be transferred (and so was not): ingest here instead.
      if (e instanceof DOMException && e.name === 'DataCloneError') return resetCaseData(db, body, opts);
      throw e;
    }
  };
}
