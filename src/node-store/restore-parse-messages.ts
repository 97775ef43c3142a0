import type { RestoreLimits } from '../core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../core/protocol/restore/restore-types.ts';

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
 * One batch. Case blocks, nearly every event of a restore, travel as one JSON string:
 * a flat string crosses threads as a copy of its bytes, where the object graph of 2000
 * blocks would be structured-cloned field by field on both sides. The few other events
 * (sync, registration, fixtures, ledgers) are cloned as they are, with their position.
 */
export interface WireBatch {
  type: 'batch';
  cases: string;
  other: [at: number, ev: RestoreEvent][];
  count: number;
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
