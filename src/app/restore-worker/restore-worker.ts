import { RecordCipher } from '../../core/crypto/record-cipher.ts';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';
import { loadCatalog } from '../../core/store/case-writer.ts';
import { catalogPiece, pieceTransfer } from '../../core/store/catalog-stream.ts';
import { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import { resetCaseData } from '../../core/store/restore-ingest.ts';
import { portParser } from './parse-port.ts';
import type { IngestRequest, WireError, WorkerReply } from './protocol.ts';

/**
 * The restore Web Worker (docs/pwa.md, "Restore in a Web Worker"): parses the restore
 * body the page hands over, applies the case rules and writes the packed pages of a new
 * generation to the user's IndexedDB database itself, then switches generations, exactly
 * as `resetCaseData` does on the page. Progress, the outcome and the catalog of the new
 * generation go back (catalog-snapshot.ts): the page adopts it rather than reading and
 * decrypting every summary again. The data key stays in this worker's
 * memory and dies with it (the page terminates the worker after each restore, and at
 * logout or cancel mid-way, which leaves the old generation live).
 */

interface WorkerScope {
  onmessage: ((ev: MessageEvent<IngestRequest>) => void) | null;
  postMessage(msg: WorkerReply, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

/**
 * Batch transactions left committing while parsing goes on: enough to keep the parser
 * busy through an on-disk commit, few enough that memory stays a few batches' worth.
 */
const IN_FLIGHT = 3;

function wireError(e: unknown): WireError {
  if (isFieldsimError(e)) return { name: e.name, code: e.code, message: e.message, retryable: e.retryable };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, code: 'storage-error', message: err.message, retryable: false };
}

/**
 * The generation the catalog pieces sent add up to (the live one the ingest left in
 * memory); null (the page reloads the catalog) if it cannot be had.
 */
async function catalogOf(db: FieldsimDb): Promise<{ gen: number; version: number; count: number } | null> {
  try {
    const { state, cat } = await loadCatalog(db);
    return { gen: state.gen, version: state.version, count: cat.entries.size };
  } catch {
    return null;
  }
}

/** The body stands in for the one the parse worker reads: the port parser never reads it. */
const NO_BODY: ReadableStream<Uint8Array> = new ReadableStream({ start: (c) => c.close() });

async function ingest(req: IngestRequest): Promise<void> {
  // With a parse worker, this one only packs and writes what it sends (parse-port.ts).
  const db = new FieldsimDb(req.dbName, {
    indexedDB,
    IDBKeyRange,
    ...(req.parsePort === undefined ? {} : { restoreParser: portParser(req.parsePort) }),
  });
  if (req.key !== null) db.vault.open(new RecordCipher(req.key));
  try {
    await db.open();
    const result = await resetCaseData(db, req.body ?? NO_BODY, {
      ...req.opts,
      inFlight: req.opts.inFlight ?? IN_FLIGHT,
      onProgress: (progress) => scope.postMessage({ type: 'progress', progress }),
      // The page builds the new catalog from these while the restore goes on, and orders
      // it by name itself (catalog-stream.ts).
      onCatalogDelta: (delta) => {
        const piece = catalogPiece(delta);
        scope.postMessage({ type: 'catalog-piece', piece }, pieceTransfer(piece));
      },
      sortNames: false,
    });
    const catalog = await catalogOf(db);
    scope.postMessage({ type: 'done', result, catalog });
  } catch (e) {
    scope.postMessage({ type: 'error', error: wireError(e) });
  } finally {
    db.vault.lock();
    db.close();
  }
}

scope.onmessage = (ev) => {
  if (ev.data.type === 'ingest') void ingest(ev.data);
};
scope.postMessage({ type: 'ready' });
