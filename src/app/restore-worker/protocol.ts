import type { CaseBlock } from '../../core/protocol/casexml/case-types.ts';
import type { CatalogSnapshot } from '../../core/store/catalog-snapshot.ts';
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
  body: ReadableStream<Uint8Array>;
  opts: {
    purge?: boolean;
    reapplyBlocks?: CaseBlock[];
    bytesTotal?: number;
    batchSize?: number;
    inFlight?: number;
  };
}

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
  /**
   * `catalog`: the switched generation's case catalog, so the page adopts it instead of
   * reading every summary back (null if the worker could not take it; the page reloads).
   */
  | { type: 'done'; result: IngestResult; catalog: CatalogSnapshot | null }
  | { type: 'error'; error: WireError };
