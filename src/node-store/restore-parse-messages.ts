import type { RestoreLimits } from '../core/protocol/restore/restore-parser.ts';
import type { WireBatch as CoreWireBatch } from '../core/store/restore-pipe-wire.ts';

/**
 * Messages between the restore parse thread (restore-parse-worker.ts) and the main
 * thread's bridge (restore-parse-thread.ts). Plain data only.
 */

export interface ParseThreadInput {
  batchSize?: number;
  maxTokenChars?: number;
  maxDepth?: number;
  limits?: Partial<RestoreLimits>;
  /** Batches the thread may parse ahead of the ones the main thread is done with. */
  window: number;
  /**
   * Apply each case's first block here, with the case rules, and send the stored record
   * (`case-applied` events): only for a full restore, whose new generation starts empty.
   */
  applyCases: boolean;
  /**
   * The SQLite file (WAL mode) the restore is being written to: while the thread waits
   * for the main thread to take its batches, it checkpoints the WAL there
   * (restore-parse-worker.ts), off the main thread.
   */
  checkpointFile?: string;
  /**
   * Pack new cases into pages of the staged generation `gen` (a full restore into a plain
   * database; needs `applyCases`): see restore-page-packer.ts and core's packed-pages.ts.
   */
  pack?: { gen: number; pageSize: number };
  /**
   * Tests: new case ids matching this pattern are taken for known ones (as an id hash
   * collision would), so their first blocks travel raw.
   */
  collide?: RegExp;
}

/** A failure of the parser, typed again on the main thread (see `rebuildError`). */
export interface WireError {
  name: string;
  code?: string;
  message: string;
  line?: number;
  column?: number;
  path?: string;
  caseId?: string;
}

/**
 * One batch: core's wire batch (restore-pipe-wire.ts: flat strings, `order` one letter
 * per event; summaries as a JSON array, `jsonSummaries`), plus packed pages, `p` in `order`.
 */
export interface WireBatch extends CoreWireBatch {
  type: 'batch';
  /**
   * Packed pages (`p` in `order`, only with `ParseThreadInput.pack`): their numbers, the
   * bytes of their encoded rows (moved, not copied), per page [start, end) of its page row
   * then of its summary row in them, and a JSON array of each page's summaries (the
   * `caseSums` row's own text).
   */
  pages?: number[];
  rowBytes?: Uint8Array;
  rowBounds?: number[];
  pageSums?: string;
}

export type FromThread =
  | WireBatch
  /** The thread took one more chunk off its queue: the main thread may send another. */
  | { type: 'taken' }
  | { type: 'done' }
  | { type: 'error'; error: WireError };

export type ToThread =
  | { type: 'chunk'; data: Uint8Array | string }
  | { type: 'end' }
  /** The main thread finished with one batch: the thread may parse one more. */
  | { type: 'ack' };
