import type { Dexie, Table } from 'dexie';
import type { FormSpec } from '../protocol/submission/form-types.ts';
import type { QuarantineReason } from '../protocol/submission/submission-types.ts';
import type { OutboxState } from '../sync/session-types.ts';

/**
 * Storage of the outbox in the per-user FieldsimDb (tables `outbox`, `outboxBlobs`, declared
 * in store/fieldsim-db.ts as `outbox: '++seq, &instanceId, state'` and
 * `outboxBlobs: '[instanceId+name], instanceId'`).
 *
 * `seq` (auto-increment primary key) is the persisted ordering number. IndexedDB orders
 * index entries with equal keys by primary key, so `where('state').equals('queued').first()`
 * is the oldest queued form, with no extra compound index to maintain.
 */

export interface OutboxRow {
  seq?: number;
  instanceId: string;
  xmlns: string;
  formName: string;
  state: OutboxState;
  /** The exact bytes to send (and resend). Empty once a sent form's payload is pruned. */
  xml: string;
  /** UTF-8 size of the XML. */
  size: number;
  createdAt: number;
  queuedAt?: number;
  sentAt?: number;
  attempts: number;
  lastAttemptAt?: number;
  lastError?: string;
  quarantineReason?: QuarantineReason;
  serverMessage?: string;
  caseIds: string[];
  attachments: AttachmentInfo[];
  pruned?: boolean;
  /**
   * An `incomplete` form keeps its draft (no meta yet) as JSON of `StoredDraft`; completed
   * forms have none. JSON because Dexie's key-path typing cannot walk the recursive tree.
   */
  draftJson?: string;
  /** Encrypted database: the form's content, sealed (outbox-seal.ts); the fields above it are empty. */
  enc?: Uint8Array;
}

/** A form the worker has not finished: its answers and when it was opened (meta timeStart). */
export type StoredDraft = Omit<FormSpec, 'meta'> & { timeStart: string };

export interface AttachmentInfo {
  name: string;
  type: string;
  size: number;
}

/** Attachment bytes. Stored as ArrayBuffer, not Blob: Blob-in-IndexedDB has a history of bugs (Safari). */
export interface OutboxBlobRow {
  instanceId: string;
  name: string;
  type: string;
  data: ArrayBuffer;
}

export const OUTBOX_TABLES = ['outbox', 'outboxBlobs'] as const;

export function outboxTable(db: Dexie): Table<OutboxRow, number> {
  return db.table('outbox');
}

export function outboxBlobTable(db: Dexie): Table<OutboxBlobRow, [string, string]> {
  return db.table('outboxBlobs');
}

/**
 * Makes every read-write transaction that touches the outbox tables use strict durability
 * (the commit is on disk before `complete` fires), whatever the database default. Chromium
 * defaults to relaxed, which may lose the last commits on power loss; a form the worker saw
 * as saved must survive that (DESIGN.md 5; Dexie `chromeTransactionDurability`). Restore
 * transactions keep the default, where speed matters more. Call before the database opens.
 */
export function installStrictOutboxDurability(db: Dexie): void {
  db.use({
    stack: 'dbcore',
    name: 'fieldsim-outbox-durability',
    create: (down) => ({
      ...down,
      transaction: (stores, mode, options) =>
        down.transaction(
          stores,
          mode,
          mode === 'readwrite' && stores.some((s) => s === 'outbox' || s === 'outboxBlobs')
            ? { ...options, durability: 'strict' }
            : options,
        ),
    }),
  });
}
