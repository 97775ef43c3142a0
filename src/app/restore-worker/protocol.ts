import type { CaseBlock } from '../../core/protocol/casexml/case-types.ts';
import type { CatalogPiece } from '../../core/store/catalog-stream.ts';
import type { IngestResult } from '../../core/store/restore-ingest.ts';
import type { RestoreProgress } from '../../core/sync/session-types.ts';

/**
 * Messages between the page and the restore worker (restore-worker.ts). Everything here is
 * structured-cloneable: the response body travels as a transferred ReadableStream, the
 * data key as a non-extractable CryptoKey (its bytes never reach JavaScript).
 */
export interface IngestRequest {
  type: 'ingest';
  dbName: string;
  /** The open data key of an encrypted database; null for a plain one. */
  key: CryptoKey | null;
  /** The response body; null when a parse worker reads it and sends batches on `parsePort`. */
  body: ReadableStream<Uint8Array> | null;
  /** The restore's parse worker's batches (parse-port.ts), when the page started one. */
  parsePort?: MessagePort;
  opts: {
    purge?: boolean;
    reapplyBlocks?: CaseBlock[];
    bytesTotal?: number;
    batchSize?: number;
    inFlight?: number;
  };
}

/**
 * To the parse worker (restore-parse-worker.ts): first `parse`, with the port of the
 * restore worker its batches go to; then the body's chunks as the page reads them, a few
 * together per message (their * buffers transferred, not copied), and `end`, or `fail` if the download broke.
 */
export type ToParseWorker =
  | { type: 'parse'; port: MessagePort; batchSize?: number }
  | { type: 'chunks'; data: Uint8Array[] }
  | { type: 'end' }
  /** The download failed: the parser throws this as the body's error (a typed NetworkError). */
  | { type: 'fail'; name: string; message: string };

/** From the parse worker to the page: it started, or it took one more message of chunks off its queue. */
export type FromParseWorker = { type: 'ready' } | { type: 'taken' };

/** A typed error as it crosses the thread boundary (`instanceof` does not survive it). */
export interface WireError {
  name: string;
  code: string;
  message: string;
  retryable: boolean;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'progress'; progress: RestoreProgress }
  /** A change to the staged generation's catalog, in order (catalog-stream.ts). */
  | { type: 'catalog-piece'; piece: CatalogPiece }
  /**
   * `catalog`: which generation the pieces sent add up to, so the page adopts the catalog
   * it assembled instead of reading every summary back (null if the worker could not say;
   * the page reloads).
   */
  | { type: 'done'; result: IngestResult; catalog: { gen: number; version: number; count: number } | null }
  | { type: 'error'; error: WireError };
