import type { Dexie, Table } from 'dexie';
import type { RecordCipher } from '../crypto/record-cipher.ts';
import type { Vault } from '../crypto/vault.ts';
import { FieldsimError } from '../errors/fieldsim-error.ts';
import { StorageError } from '../errors/storage-error.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../http/backoff.ts';
import type { SubmitOutcome } from '../http/classify-response.ts';
import { HQ_SUBMISSION_LIMITS, type SubmitRequest } from '../http/hq-client.ts';
import { afterIo } from '../lib/after-io.ts';
import { toError } from '../lib/to-error.ts';
import { type Clock, type LockFn, systemClock } from '../platform.ts';
import type { CaseBlock } from '../protocol/casexml/case-types.ts';
import type { ComposedForm } from '../protocol/submission/form-types.ts';
import { readForm } from '../protocol/submission/read-form.ts';
import type { QuarantineReason } from '../protocol/submission/submission-types.ts';
import type { OutboxItem, OutboxState, SendReport } from '../sync/session-types.ts';
import { base64ToBytes, bytesToBase64 } from './base64.ts';
import { checkExportedForm } from './export-shape.ts';
import { openOutboxBlob, openOutboxRow, sealOutboxBlob, sealOutboxRow } from './outbox-seal.ts';
import {
  type AttachmentInfo,
  type OutboxBlobRow,
  type OutboxRow,
  outboxBlobTable,
  outboxTable,
  type StoredDraft,
} from './outbox-store.ts';

/**
 * The persistent, ordered submission queue (DESIGN.md 5, issue 4).
 *
 *   incomplete --complete--> queued --send--> sending --201--> sent (record kept)
 *                              ^  ^              |
 *                              |  |              +-- retryable (network, timeout, 5xx, 423,
 *                              |  |              |   429, 503) --> queued, the run STOPS,
 *                              |  |              |   backoff (Retry-After wins)
 *                              |  |              +-- 401/403/406 --> queued, queue PAUSED until
 *                              |  |              |   the user logs in again (`resume`)
 *                              |  +--------------+-- found at start-up / lock acquisition
 *                              |                 |   (dead tab or process): same bytes resent
 *                              |                 +-- permanent (422, 201 submit_error, 413,
 *                              |                     409, other 4xx) --> quarantined(reason),
 *                              |                     the run GOES ON with the next form
 *                              +--- requeue (user) ---- quarantined <-- quarantine (user)
 *
 * - Order: the oldest queued form (lowest `seq`) is always sent first, and a retryable
 *   failure stops the run so later forms (which may update cases the stuck one creates)
 *   wait behind it. Unlike Android, a bad form does not block the queue: it is set aside
 *   (`and:…/FormSubmissionHelper.java` continues past processing failures too).
 * - Nothing is deleted before the server's 201: a row only ever changes state. A resend
 *   carries the same instanceID and the same bytes, so HQ's duplicate rule (identical XML
 *   with a known id → duplicate, reported 201 under OpenRosa 3.0; PROTOCOL.md 7.5) makes a
 *   resend after a lost answer harmless.
 * - One sender at a time, through the injected lock (Web Locks in browsers). Whoever holds
 *   the lock and sees a `sending` row knows its sender died, so it re-queues it.
 * - No silent expiry: only an explicit `prune` drops payloads, and only of `sent` forms.
 */

/** What the outbox needs from the case database: A's `CaseDb` fits. */
export interface CaseApplier {
  /** The tables `applyBlocks` writes, so a save can include them in its transaction. */
  tables(): Table[];
  /**
   * Applies blocks with the phone rules; joins the open transaction; all or nothing.
   * With `optimistic`, it may abort the transaction after setting `optimistic.stale`
   * (another connection wrote cases meanwhile): the caller then runs it again without.
   */
  applyBlocks(blocks: CaseBlock[], opts?: { optimistic?: { stale: boolean } }): Promise<void>;
  /**
   * Encrypted databases: applies and seals outside any transaction; `write()` then runs
   * inside the save's transaction and throws a `StaleCaseState` error if another
   * connection wrote cases since (the save prepares again). `CaseDb.prepareBlocks` fits.
   */
  prepareBlocks?(blocks: CaseBlock[], opts?: { fresh?: boolean }): Promise<{ write(): Promise<void> }>;
}

/** What the outbox needs to talk to the server: `HqClient` fits. */
export interface OutboxSender {
  submit(req: SubmitRequest): Promise<SubmitOutcome>;
  /** Optional OpenRosa HEAD pre-flight: the server's accepted content length, if it says. */
  preflight?(): Promise<number | undefined>;
}

export interface OutboxLimits {
  xmlBytes: number;
  attachmentBytes: number;
}

export interface OutboxOptions {
  db: Dexie;
  cases: CaseApplier;
  lock: LockFn;
  sender?: OutboxSender | null;
  clock?: Clock;
  random?: () => number;
  /** The current sync token, sent as `X-CommCareHQ-LastSyncToken` (PROTOCOL.md 7.6). */
  getSyncToken?: () => Promise<string | null>;
  /** Defaults to HQ's 10 MB form / 15 MB attachment limits. */
  limits?: OutboxLimits;
  backoff?: BackoffPolicy;
  /** Schedule the next attempt by itself after a retryable stop (default false: the host's timer does it). */
  autoRetry?: boolean;
  /** When it says offline, runs stop before touching the network. */
  isOnline?: () => boolean;
  /**
   * Ask the server its accepted size once per run (OpenRosa HEAD pre-flight, ODK servers)
   * and quarantine larger forms as `too-large` without uploading them. Off for HQ, which
   * has no HEAD handler.
   */
  preflight?: boolean;
  /** Encryption at rest: the database's vault (FieldsimDb.vault); rows are sealed while it is encrypted. */
  vault?: Vault;
}

export type TriggerReason = 'save' | 'start' | 'online' | 'timer' | 'manual' | 'backoff';

export interface SaveAttachment {
  name: string;
  blob: Blob;
}

/** Portable outbox file (issue 4: export on one device or profile, import on another). */
export interface OutboxExport {
  format: 'fieldsim-outbox';
  version: 1;
  exportedAt: string;
  forms: ExportedForm[];
}

export interface ExportedForm {
  instanceId: string;
  xmlns: string;
  formName: string;
  state: 'queued' | 'quarantined' | 'incomplete';
  xml: string;
  size: number;
  createdAt: number;
  caseIds: string[];
  quarantineReason?: QuarantineReason;
  serverMessage?: string;
  draft?: StoredDraft;
  attachments: { name: string; type: string; data: string }[];
}

export interface ImportResult {
  imported: number;
  skipped: number;
  failed: { instanceId: string; message: string }[];
}

type RowChanges = { [K in keyof OutboxRow]?: OutboxRow[K] | undefined };

/** A drain transaction's read of the queue (`Outbox.#step`). */
interface DrainStep {
  /** The oldest queued rows, as stored (sealed when encrypted). */
  batch: OutboxRow[];
  /** Whether the first of them was marked `sending` in the same transaction. */
  marked: boolean;
  /** Rows a dead sender had left `sending`, put back in line. */
  recovered: number;
}

function patch(row: OutboxRow, changes: RowChanges): void {
  const target = row as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete target[k];
    else target[k] = v;
  }
}

const SEND_LOCK_PREFIX = 'fieldsim-outbox:';
/** Queued rows read per batch during a run. */
const DRAIN_BATCH = 50;

/**
 * The queue row of a saved form (`enqueue`), replacing its draft if there is one: the
 * draft's creation time and other attachments are kept; a form already queued or sent
 * under this instanceID is refused.
 */
function queuedRow(
  form: ComposedForm,
  caseIds: string[],
  infos: AttachmentInfo[],
  existing: OutboxRow | undefined,
  now: number,
): OutboxRow {
  if (existing && existing.state !== 'incomplete')
    throw new FieldsimError('invalid-argument', `A form with instanceID ${form.instanceId} is already saved`);
  const kept = existing ? existing.attachments.filter((a) => !infos.some((i) => i.name === a.name)) : [];
  return {
    instanceId: form.instanceId,
    xmlns: form.xmlns,
    formName: form.formName,
    state: 'queued',
    xml: form.xml,
    size: form.size,
    createdAt: existing?.createdAt ?? now,
    queuedAt: now,
    attempts: 0,
    caseIds,
    attachments: [...kept, ...infos],
  };
}

/**
 * The row of a draft (`saveDraft`), replacing `existing` if there is one: its creation
 * time, position and other attachments are kept; a form that left the drafts is refused.
 */
function draftRow(
  instanceId: string,
  draft: StoredDraft,
  blobs: OutboxBlobRow[],
  existing: OutboxRow | undefined,
  now: number,
): OutboxRow {
  if (existing && existing.state !== 'incomplete')
    throw new FieldsimError('invalid-argument', `Form ${instanceId} is no longer a draft`);
  const r: OutboxRow = {
    instanceId,
    xmlns: draft.xmlns,
    formName: draft.name ?? draft.rootName ?? 'data',
    state: 'incomplete',
    xml: '',
    size: 0,
    createdAt: existing?.createdAt ?? now,
    attempts: 0,
    caseIds: [],
    attachments: [
      ...(existing?.attachments ?? []).filter((a) => !blobs.some((b) => b.name === a.name)),
      ...blobs.map((b) => ({ name: b.name, type: b.type, size: b.data.byteLength })),
    ],
    draftJson: JSON.stringify(draft),
  };
  if (existing?.seq !== undefined) r.seq = existing.seq;
  return r;
}

/** The outbox row of an imported form (`importForms`), before any sealing. */
function importedRow(f: ExportedForm, queuedAt: number): OutboxRow {
  const row: OutboxRow = {
    instanceId: f.instanceId,
    xmlns: f.xmlns,
    formName: f.formName,
    state: f.state,
    xml: f.xml,
    size: f.size || utf8Size(f.xml),
    createdAt: f.createdAt,
    queuedAt,
    attempts: 0,
    caseIds: f.caseIds,
    attachments: f.attachments.map((a) => ({
      name: a.name,
      type: a.type,
      size: base64ToBytes(a.data).length,
    })),
  };
  if (f.quarantineReason !== undefined) row.quarantineReason = f.quarantineReason;
  if (f.serverMessage !== undefined) row.serverMessage = f.serverMessage;
  if (f.draft !== undefined) row.draftJson = JSON.stringify(f.draft);
  return row;
}

/** The attachment rows of an imported form, bytes decoded from the export's base64. */
function importedBlobs(f: ExportedForm): OutboxBlobRow[] {
  return f.attachments.map((a) => {
    const bytes = base64ToBytes(a.data);
    return {
      instanceId: f.instanceId,
      name: a.name,
      type: a.type,
      data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    };
  });
}

function utf8Size(s: string): number {
  return new TextEncoder().encode(s).length;
}

function toItem(r: OutboxRow): OutboxItem {
  const item: OutboxItem = {
    seq: r.seq ?? 0,
    instanceId: r.instanceId,
    xmlns: r.xmlns,
    formName: r.formName,
    state: r.state,
    createdAt: r.createdAt,
    size: r.size,
    attempts: r.attempts,
    caseIds: r.caseIds,
  };
  if (r.sentAt !== undefined) item.sentAt = r.sentAt;
  if (r.lastError !== undefined) item.lastError = r.lastError;
  if (r.quarantineReason !== undefined) item.quarantineReason = r.quarantineReason;
  if (r.serverMessage !== undefined) item.serverMessage = r.serverMessage;
  return item;
}

const STALE_RETRIES = 20;

/** Another connection keeps winning: wait a little (random, growing) before preparing again. */
function staleBackoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * 2 * (attempt + 1)));
}

/** The case state moved under a two-phase case write (case-writer.ts `StaleCaseState`). */
function isStale(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { staleCaseState?: unknown }).staleCaseState === true;
}

function isClosedDbError(e: unknown): boolean {
  const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name) : '';
  return name === 'DatabaseClosedError' || name === 'InvalidStateError';
}

export class Outbox {
  readonly #db: Dexie;
  readonly #cases: CaseApplier;
  readonly #lock: LockFn;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #getSyncToken: () => Promise<string | null>;
  readonly #limits: OutboxLimits;
  readonly #backoff: BackoffPolicy;
  readonly #autoRetry: boolean;
  readonly #isOnline: () => boolean;
  readonly #preflight: boolean;
  readonly #vault: Vault | undefined;
  #sender: OutboxSender | null;
  #running: Promise<SendReport> | null = null;
  #rerun = false;
  #failures = 0;
  #nextAttemptAt = 0;
  #paused: { code: string; message: string } | null = null;
  #retryTimer: AbortController | null = null;
  #closed = false;
  readonly #listeners = new Set<() => void>();

  constructor(opts: OutboxOptions) {
    this.#db = opts.db;
    this.#cases = opts.cases;
    this.#lock = opts.lock;
    this.#sender = opts.sender ?? null;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#getSyncToken = opts.getSyncToken ?? (async () => null);
    this.#limits = opts.limits ?? HQ_SUBMISSION_LIMITS;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#autoRetry = opts.autoRetry ?? false;
    this.#isOnline = opts.isOnline ?? (() => true);
    this.#preflight = opts.preflight ?? false;
    this.#vault = opts.vault;
  }

  /** The record cipher of an encrypted database (throws `data-locked` while locked), else null. */
  #cipher(): RecordCipher | null {
    return this.#vault?.encrypted ? this.#vault.cipher() : null;
  }

  /** Rows as the code reads them: opened (after the read transaction) when encrypted. */
  async #open(rows: OutboxRow[]): Promise<OutboxRow[]> {
    const c = this.#cipher();
    return c === null ? rows : Promise.all(rows.map((r) => openOutboxRow(c, r)));
  }

  async #openBlobs(rows: OutboxBlobRow[]): Promise<OutboxBlobRow[]> {
    const c = this.#cipher();
    return c === null ? rows : Promise.all(rows.map((b) => openOutboxBlob(c, b)));
  }

  get #table(): Table<OutboxRow, number> {
    return outboxTable(this.#db);
  }

  get #blobs(): Table<OutboxBlobRow, [string, string]> {
    return outboxBlobTable(this.#db);
  }

  /** The sender is swapped when the user logs in again (new credentials). */
  setSender(sender: OutboxSender | null): void {
    this.#sender = sender;
  }

  /** Why the queue is paused (401/406), or null. */
  get paused(): { code: string; message: string } | null {
    return this.#paused;
  }

  /** Epoch ms before which `timer`/`save` triggers will not send (backoff), 0 when none. */
  get nextAttemptAt(): number {
    return this.#nextAttemptAt;
  }

  /** Called after a fresh login: the paused queue may go again. */
  resume(): void {
    this.#paused = null;
  }

  /** UI hook: called after any change of the outbox. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch {
        // A UI listener's failure must not break the queue.
      }
    }
  }

  /**
   * Runs a write, reopening the database once if the platform closed it under us (iOS
   * Safari closes IndexedDB connections of backgrounded pages): the save must not fail
   * for that (issue 4).
   */
  async #write<T>(context: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!isClosedDbError(e)) throw e instanceof FieldsimError ? e : StorageError.from(e, context);
      try {
        if (!this.#db.isOpen()) await this.#db.open();
        return await fn();
      } catch (e2) {
        throw e2 instanceof FieldsimError ? e2 : StorageError.from(e2, context);
      }
    }
  }

  #checkLimits(
    size: number,
    attachments: { name: string; size: number }[],
    acceptedTotal?: number,
  ): string | undefined {
    if (size > this.#limits.xmlBytes)
      return `The form is ${size} bytes; the server accepts at most ${this.#limits.xmlBytes}.`;
    const total = attachments.reduce((n, a) => n + a.size, size);
    if (acceptedTotal !== undefined && total > acceptedTotal)
      return `The submission is ${total} bytes; the server accepts at most ${acceptedTotal} (X-OpenRosa-Accept-Content-Length).`;
    for (const a of attachments)
      if (a.size > this.#limits.attachmentBytes)
        return `Attachment ${a.name} is ${a.size} bytes; the server accepts at most ${this.#limits.attachmentBytes}.`;
    return undefined;
  }

  /**
   * Saves a completed form: applies its case blocks to the local case database and queues
   * it, in ONE transaction (issue 4) — either the worker sees the change and the form will
   * be sent, or neither happened. Throws `submission-too-large` before writing anything
   * when the form or an attachment is over the limit, `case-invalid`/`case-not-found` when
   * the blocks break the phone rules. An `incomplete` draft with the same instanceID is
   * replaced (its attachments kept); the form takes the next ordering number.
   */
  async enqueue(
    form: ComposedForm,
    attachments: SaveAttachment[] = [],
    opts: { replacesDraft?: boolean } = {},
  ): Promise<OutboxItem> {
    // Blob reads are not IndexedDB requests: do them before the transaction starts, or
    // the transaction would auto-commit while we wait.
    const blobs: OutboxBlobRow[] = await Promise.all(
      attachments.map(async (a) => ({
        instanceId: form.instanceId,
        name: a.name,
        type: a.blob.type || 'application/octet-stream',
        data: await a.blob.arrayBuffer(),
      })),
    );
    const infos: AttachmentInfo[] = blobs.map((b) => ({
      name: b.name,
      type: b.type,
      size: b.data.byteLength,
    }));
    const tooLarge = this.#checkLimits(form.size, infos);
    if (tooLarge) throw new FieldsimError('submission-too-large', tooLarge);
    const sealing = this.#cipher();
    if (sealing !== null)
      return this.#enqueueSealed(sealing, form, blobs, infos, opts.replacesDraft ?? false);
    const now = this.#clock.now();
    const caseIds = [...new Set(form.caseBlocks.map((b) => b.caseId))];
    // The first attempt lets the case database write from the pages it holds without
    // reading them first; if another tab wrote cases meanwhile it aborts the transaction
    // (nothing kept) and says so in the probe, and the save runs once more the safe way.
    const save = (probe: { stale: boolean } | undefined) =>
      this.#db.transaction('rw', [this.#table, this.#blobs, ...this.#cases.tables()], async () => {
        // Only a draft completion looks for an existing row; a fresh form relies on the
        // unique instanceId index (one read less on the hot path).
        const existing = opts.replacesDraft
          ? await this.#table.where('instanceId').equals(form.instanceId).first()
          : undefined;
        const r = queuedRow(form, caseIds, infos, existing, now);
        if (existing) await this.#table.delete(existing.seq ?? -1);
        // The queue row, the case changes and the attachments go out together: IndexedDB
        // runs the requests in order, and waiting for each in turn would cost a round trip
        // to the storage process per step (measured in Chromium: most of a save). If any
        // fails, the error leaves this scope, the transaction aborts and nothing is kept.
        const added = this.#table.add(r).catch((e: unknown) => {
          if ((e as { name?: unknown }).name === 'ConstraintError')
            throw new FieldsimError(
              'invalid-argument',
              `A form with instanceID ${form.instanceId} is already saved`,
            );
          throw e;
        });
        const [seq] = await Promise.all([
          added,
          this.#cases.applyBlocks(form.caseBlocks, probe ? { optimistic: probe } : {}),
          blobs.length > 0 ? this.#blobs.bulkPut(blobs) : undefined,
        ]);
        r.seq = seq;
        return r;
      });
    const row = await this.#write('saving the form', async () => {
      const probe = { stale: false };
      try {
        return await save(probe);
      } catch (e) {
        if (!probe.stale) throw e;
        return save(undefined);
      }
    });
    this.#changed();
    void this.trigger('save');
    return toItem(row);
  }

  /**
   * `enqueue` on an encrypted database. WebCrypto is async and IndexedDB commits a
   * transaction that awaits anything else, so everything is read, applied and sealed
   * first (the draft being completed, the case pages), and the transaction only writes:
   * it checks the draft and the case state are still the ones read, else prepares again.
   */
  async #enqueueSealed(
    c: RecordCipher,
    form: ComposedForm,
    blobs: OutboxBlobRow[],
    infos: AttachmentInfo[],
    replacesDraft: boolean,
  ): Promise<OutboxItem> {
    const sealedBlobs = await Promise.all(blobs.map((b) => sealOutboxBlob(c, b)));
    const caseIds = [...new Set(form.caseBlocks.map((b) => b.caseId))];
    // One sealed save at a time per outbox: saves prepared together from the same case
    // state would all but one go stale and prepare again.
    const row = await this.#serial(() =>
      this.#write('saving the form', async () => {
        for (let attempt = 0; ; attempt++) {
          const now = this.#clock.now();
          const found = replacesDraft
            ? await this.#table.where('instanceId').equals(form.instanceId).first()
            : undefined;
          const existing = found === undefined ? undefined : (await this.#open([found]))[0];
          const r = queuedRow(form, caseIds, infos, existing, now);
          // The row's sealing and the case write's preparation run together.
          const [sealed, cases] = await Promise.all([
            sealOutboxRow(c, r),
            form.caseBlocks.length > 0 && this.#cases.prepareBlocks
              ? this.#cases.prepareBlocks(form.caseBlocks, { fresh: attempt > 0 })
              : undefined,
          ]);
          try {
            const seq = await this.#db.transaction(
              'rw',
              [this.#table, this.#blobs, ...this.#cases.tables()],
              async () => {
                // A fresh form relies on the unique instanceId index, as the plain save does.
                if (replacesDraft) {
                  const now2 = await this.#table.where('instanceId').equals(form.instanceId).first();
                  if ((now2?.seq ?? null) !== (found?.seq ?? null) || (now2 && now2.state !== 'incomplete'))
                    throw new FieldsimError(
                      'invalid-argument',
                      `A form with instanceID ${form.instanceId} is already saved`,
                    );
                  if (now2?.seq !== undefined) await this.#table.delete(now2.seq);
                }
                const added = this.#table.add(sealed).catch((e: unknown) => {
                  if ((e as { name?: unknown }).name === 'ConstraintError')
                    throw new FieldsimError(
                      'invalid-argument',
                      `A form with instanceID ${form.instanceId} is already saved`,
                    );
                  throw e;
                });
                const [seq] = await Promise.all([
                  added,
                  cases?.write(),
                  sealedBlobs.length > 0 ? this.#blobs.bulkPut(sealedBlobs) : undefined,
                ]);
                return seq;
              },
            );
            r.seq = seq;
            return r;
          } catch (e) {
            if (isStale(e) && attempt < STALE_RETRIES) {
              await staleBackoff(attempt);
              continue;
            }
            throw e;
          }
        }
      }),
    );
    this.#changed();
    void this.trigger('save');
    return toItem(row);
  }

  #serialTail: Promise<unknown> = Promise.resolve();

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serialTail.then(fn, fn);
    this.#serialTail = run.catch(() => undefined);
    return run;
  }

  /** Keeps an unfinished form (`incomplete`): nothing applied, nothing sent. */
  async saveDraft(
    instanceId: string,
    draft: StoredDraft,
    attachments: SaveAttachment[] = [],
  ): Promise<OutboxItem> {
    const blobs: OutboxBlobRow[] = await Promise.all(
      attachments.map(async (a) => ({
        instanceId,
        name: a.name,
        type: a.blob.type || 'application/octet-stream',
        data: await a.blob.arrayBuffer(),
      })),
    );
    const now = this.#clock.now();
    const c = this.#cipher();
    if (c !== null) return this.#saveDraftSealed(c, instanceId, draft, blobs, now);
    const row = await this.#write('saving the draft', () =>
      this.#db.transaction('rw', [this.#table, this.#blobs], async () => {
        const existing = await this.#table.where('instanceId').equals(instanceId).first();
        const r = draftRow(instanceId, draft, blobs, existing, now);
        r.seq = await this.#table.put(r);
        if (blobs.length > 0) await this.#blobs.bulkPut(blobs);
        return r;
      }),
    );
    this.#changed();
    return toItem(row);
  }

  /** `saveDraft` on an encrypted database: read and seal first, then one writing transaction. */
  async #saveDraftSealed(
    c: RecordCipher,
    instanceId: string,
    draft: StoredDraft,
    blobs: OutboxBlobRow[],
    now: number,
  ): Promise<OutboxItem> {
    const sealedBlobs = await Promise.all(blobs.map((b) => sealOutboxBlob(c, b)));
    const row = await this.#write('saving the draft', async () => {
      const found = await this.#table.where('instanceId').equals(instanceId).first();
      const existing = found === undefined ? undefined : (await this.#open([found]))[0];
      const r = draftRow(instanceId, draft, blobs, existing, now);
      const sealed = await sealOutboxRow(c, r);
      return this.#db.transaction('rw', [this.#table, this.#blobs], async () => {
        const now2 = await this.#table.where('instanceId').equals(instanceId).first();
        if ((now2?.seq ?? null) !== (found?.seq ?? null) || (now2 && now2.state !== 'incomplete'))
          throw new FieldsimError('invalid-argument', `Form ${instanceId} changed while its draft was saved`);
        r.seq = await this.#table.put(sealed);
        if (sealedBlobs.length > 0) await this.#blobs.bulkPut(sealedBlobs);
        return r;
      });
    });
    this.#changed();
    return toItem(row);
  }

  async getDraft(instanceId: string): Promise<StoredDraft | undefined> {
    const found = await this.#table.where('instanceId').equals(instanceId).first();
    const r = found === undefined ? undefined : (await this.#open([found]))[0];
    return r?.state === 'incomplete' && r.draftJson !== undefined
      ? (JSON.parse(r.draftJson) as StoredDraft)
      : undefined;
  }

  /** Every form, oldest first (by ordering number), without payloads. */
  async list(states?: OutboxState[]): Promise<OutboxItem[]> {
    const rows = states
      ? await this.#table.where('state').anyOf(states).toArray()
      : await this.#table.orderBy(':id').toArray();
    if (states) rows.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    return (await this.#open(rows)).map(toItem);
  }

  async counts(): Promise<Record<OutboxState, number>> {
    const out: Record<OutboxState, number> = {
      incomplete: 0,
      queued: 0,
      sending: 0,
      sent: 0,
      quarantined: 0,
    };
    // One read transaction for the five counts (a runner's `assert_local` and its end
    // of worker read them; five transactions cost five times Dexie's bookkeeping).
    await this.#db.transaction('r', [this.#table], async () => {
      const states = Object.keys(out) as OutboxState[];
      const n = await Promise.all(states.map((s) => this.#table.where('state').equals(s).count()));
      states.forEach((s, i) => {
        out[s] = n[i] ?? 0;
      });
    });
    return out;
  }

  /** The exact XML that was (or will be) sent; `undefined` for drafts, pruned or unknown forms. */
  async getXml(instanceId: string): Promise<string | undefined> {
    const found = await this.#table.where('instanceId').equals(instanceId).first();
    const r = found === undefined ? undefined : (await this.#open([found]))[0];
    return r && r.xml !== '' ? r.xml : undefined;
  }

  async getAttachments(instanceId: string): Promise<SaveAttachment[]> {
    const rows = await this.#openBlobs(await this.#blobs.where('instanceId').equals(instanceId).toArray());
    return rows.map((b) => ({ name: b.name, blob: new Blob([b.data], { type: b.type }) }));
  }

  /** Applies `changes` to one row; keys whose value is `undefined` are removed from it. */
  async #setState(seq: number, changes: RowChanges): Promise<void> {
    await this.#write('updating the outbox', () =>
      this.#db.transaction('rw', [this.#table], () => this.#table.update(seq, (r) => patch(r, changes))),
    );
  }

  /** User action: a quarantined form goes back in line (keeping its ordering number). */
  async requeue(instanceId: string): Promise<void> {
    await this.#write('re-queueing', () =>
      this.#db.transaction('rw', [this.#table], async () => {
        const r = await this.#table.where('instanceId').equals(instanceId).first();
        if (r?.state !== 'quarantined')
          throw new FieldsimError('invalid-argument', `Form ${instanceId} is not quarantined`);
        await this.#table.update(r.seq ?? -1, (x) =>
          patch(x, { state: 'queued', quarantineReason: undefined, lastError: undefined }),
        );
      }),
    );
    this.#changed();
    void this.trigger('manual');
  }

  /** User action: set a queued (or draft) form aside so it is not sent. */
  async quarantine(instanceId: string, message = 'Set aside by the user'): Promise<void> {
    await this.#lock(this.#lockName, () =>
      this.#write('quarantining', () =>
        this.#db.transaction('rw', [this.#table], async () => {
          const r = await this.#table.where('instanceId').equals(instanceId).first();
          if (!r || (r.state !== 'queued' && r.state !== 'incomplete'))
            throw new FieldsimError('invalid-argument', `Form ${instanceId} is not waiting to be sent`);
          await this.#table.update(r.seq ?? -1, (x) =>
            patch(x, { state: 'quarantined', quarantineReason: 'manual', serverMessage: message }),
          );
        }),
      ),
    );
    this.#changed();
  }

  get #lockName(): string {
    return `${SEND_LOCK_PREFIX}${this.#db.name}`;
  }

  /**
   * Start-up: forms left `sending` by a dead tab or process go back to `queued` (same
   * bytes, same instanceID), then a send is tried. Done under the send lock so a live
   * sender in another tab is never second-guessed.
   */
  async start(): Promise<SendReport | null> {
    await this.#lock(this.#lockName, () => this.#recoverSending());
    return this.trigger('start');
  }

  async #recoverSending(): Promise<number> {
    const n = await this.#write('recovering the outbox', () =>
      this.#db.transaction('rw', [this.#table], () =>
        this.#table
          .where('state')
          .equals('sending')
          .modify((r) => {
            r.state = 'queued';
          }),
      ),
    );
    if (n > 0) this.#changed();
    return n;
  }

  /**
   * Host-wired triggers (issue 4): `save`, `start`, `online`, `timer`, `manual`. `timer`
   * and `save` respect the backoff window; `online` and `manual` mean "try now". Returns
   * the report of the run, or null when nothing ran (paused, closed, backing off, or no
   * sender).
   */
  trigger(reason: TriggerReason): Promise<SendReport | null> {
    if (this.#closed || this.#paused || this.#sender === null) return Promise.resolve(null);
    if ((reason === 'timer' || reason === 'save') && this.#clock.now() < this.#nextAttemptAt)
      return Promise.resolve(null);
    return this.send().catch(() => null);
  }

  onOnline(): Promise<SendReport | null> {
    return this.trigger('online');
  }

  onTimer(): Promise<SendReport | null> {
    return this.trigger('timer');
  }

  /**
   * Sends queued forms in order until the queue is empty or a run-stopping outcome. If a
   * run is already going in this realm, asks it to go round once more and returns its
   * report; across tabs the lock serialises runs.
   */
  send(): Promise<SendReport> {
    if (this.#running) {
      this.#rerun = true;
      return this.#running;
    }
    const run = (async () => {
      let sent = 0;
      let quarantined = 0;
      let report: SendReport;
      do {
        this.#rerun = false;
        report = await this.#lock(this.#lockName, () => this.#drain());
        sent += report.sent;
        quarantined += report.quarantined;
        // A trigger that arrived during the run (an `online` event while the run was
        // stopping for being offline, a save) gets its own run: dropping it would leave
        // the queue waiting for the next trigger (Enketo's never-draining queue).
      } while (this.#rerun && !this.#closed && !this.#paused);
      return { ...report, sent, quarantined };
    })();
    this.#running = run;
    const clear = () => {
      if (this.#running === run) this.#running = null;
    };
    run.then(clear, clear);
    return run;
  }

  #sendingPatch(r: OutboxRow): void {
    patch(r, { state: 'sending', attempts: r.attempts + 1, lastAttemptAt: this.#clock.now() });
  }

  /*
   * The hot path writes whole rows it already holds (put, no read-modify-write): while a
   * run holds the lock nobody else changes a queued/sending row (enqueue appends, requeue
   * and prune touch quarantined/sent rows only, quarantine takes the lock).
   */
  async #markSending(row: OutboxRow): Promise<void> {
    this.#sendingPatch(row);
    await this.#write('updating the outbox', () =>
      this.#db.transaction('rw', [this.#table], () => this.#table.put(row)),
    );
  }

  /**
   * One transaction around the queue's next batch: the rows in `finish` (outcomes) are
   * written, with `recover` the rows a dead sender left `sending` go back to `queued`,
   * then the oldest queued rows are read and, with `mark`, the first of them is marked
   * `sending` when it may go (within the limits; plain rows only, a sealed row's
   * attachment sizes are not readable here). A drained form used to cost six transactions
   * (recover, read, mark, record, read again, count what is left); now one at the start
   * of a run and one per form (bench/RESULTS.md, session 9). Each transaction is atomic,
   * so a crash leaves the same states as before: rows queued or `sending`, both resent.
   */
  #step(
    finish: OutboxRow[],
    recover: boolean,
    mark: boolean,
    accepted: number | undefined,
  ): Promise<DrainStep> {
    return this.#write('updating the outbox', () =>
      // Dexie's promises chained, not an async function: a native `await` inside a
      // transaction makes Dexie keep the zone alive with echo microtasks (two per tick
      // while any await is pending, up to 200 per await, bench/RESULTS.md session 9).
      this.#db.transaction('rw', [this.#table], () => {
        const t = this.#table;
        let recovered = 0;
        const read = () => {
          // This read sees every form whose save committed before now, so triggers that
          // came before it need no run of their own (a save's trigger follows its commit).
          this.#rerun = false;
          return t
            .where('state')
            .equals('queued')
            .limit(DRAIN_BATCH)
            .toArray()
            .then((batch): DrainStep | PromiseLike<DrainStep> => {
              const first = batch[0];
              const marked =
                mark &&
                first !== undefined &&
                !this.#closed &&
                !this.#checkLimits(first.size, first.attachments, accepted);
              if (!marked) return { batch, marked, recovered };
              this.#sendingPatch(first);
              return t.put(first).then(() => ({ batch, marked, recovered }));
            });
        };
        const recoverThenRead = () =>
          recover
            ? t
                .where('state')
                .equals('sending')
                .toArray()
                .then((stale) => {
                  recovered = stale.length;
                  if (stale.length === 0) return read();
                  for (const r of stale) r.state = 'queued';
                  return t.bulkPut(stale).then(read);
                })
            : read();
        return finish.length > 0 ? t.bulkPut(finish).then(recoverThenRead) : recoverThenRead();
      }),
    );
  }

  /**
   * Records a form's final outcome and marks the next one `sending` in the same
   * transaction: one durable commit per form instead of two on the hot path. At the end
   * of a batch (`readNext`), the same transaction reads the next batch and marks its
   * first form (`#step`). Returns that batch, or null when not asked for one.
   */
  async #finishAndMarkNext(
    row: OutboxRow,
    changes: RowChanges,
    next: OutboxRow | undefined,
    readNext: { accepted: number | undefined } | null,
  ): Promise<DrainStep | null> {
    patch(row, changes);
    const mark = next !== undefined && !this.#closed;
    if (mark) this.#sendingPatch(next);
    // The drain sends the next form before this commit starts (after-io.ts): the same
    // states and the same crash window as a commit overlapping that send, without the
    // commit's start delaying the request.
    await afterIo();
    if (readNext !== null && !mark) return this.#step([row], false, this.#plain(), readNext.accepted);
    await this.#write('updating the outbox', () =>
      this.#db.transaction('rw', [this.#table], () => this.#table.bulkPut(mark ? [row, next] : [row])),
    );
    return null;
  }

  /** Whether rows are stored in clear (no encryption at rest). */
  #plain(): boolean {
    return this.#vault?.encrypted !== true;
  }

  async #remaining(): Promise<number> {
    return (await this.#table.where('state').anyOf(['queued', 'sending']).count()) as number;
  }

  async #drain(): Promise<SendReport> {
    let sent = 0;
    let quarantined = 0;
    const stop = async (code: string, message: string): Promise<SendReport> => ({
      sent,
      quarantined,
      remaining: await this.#remaining(),
      stoppedBy: { code, message },
    });
    const sender = this.#sender;
    if (this.#paused || sender === null || !this.#isOnline()) {
      // We hold the lock: any `sending` row belongs to a sender that died.
      await this.#recoverSending();
      if (this.#paused) return stop(this.#paused.code, this.#paused.message);
      if (sender === null) return stop('not-logged-in', 'No credentials to send with');
      return stop('network-offline', 'The device is offline');
    }
    // The token is read once per run: a sync does not run in the middle of a send run
    // (sync-and-send sends first), and one read per form would cost a transaction each.
    const lastSyncToken = await this.#getSyncToken();
    const accepted = this.#preflight && sender.preflight ? await sender.preflight() : undefined;
    // We hold the lock: any `sending` row belongs to a sender that died; it goes back in
    // line in the transaction that reads the first batch.
    let read: DrainStep | null = await this.#step([], true, this.#plain(), accepted);
    if (read.recovered > 0) this.#changed();
    /*
     * The commit recording form N's outcome (and marking N+1 `sending`) runs while N+1 is
     * sent: order is kept (N+1 leaves only after N's answer is in) and so is exactly-once
     * (a crash before that commit leaves N, and N+1, queued or sending: both are resent,
     * and the server answers a resent instance ID as a duplicate of the form it stored,
     * never processing it twice). The commit is awaited before any row is touched again.
     */
    let pending: Promise<DrainStep | null> | null = null;
    const settle = async (): Promise<DrainStep | null> => {
      const p = pending;
      pending = null;
      return p ? await p : null;
    };
    while (!this.#closed) {
      // Under the lock nobody else changes queued rows (enqueue only appends, requeue only
      // touches quarantined rows), so a batch read stays valid while it is worked through.
      read ??= await this.#step([], false, this.#plain(), accepted);
      if (read.batch.length === 0) break;
      const { batch, marked } = read;
      read = null;
      // Encrypted: the stored (sealed) rows are what gets written back on state changes;
      // the opened copies give the XML and attachment sizes.
      const opened = await this.#open(batch);
      let alreadySending = marked;
      for (let i = 0; i < batch.length && !this.#closed; i++) {
        const row = batch[i] as OutboxRow;
        const content = opened[i] as OutboxRow;
        const seq = row.seq ?? -1;
        const tooLarge = this.#checkLimits(row.size, content.attachments, accepted);
        if (tooLarge) {
          await settle();
          await this.#setState(seq, {
            state: 'quarantined',
            quarantineReason: 'too-large',
            serverMessage: tooLarge,
          });
          quarantined++;
          alreadySending = false;
          this.#changed();
          continue;
        }
        if (!alreadySending) {
          await settle();
          await this.#markSending(row);
        }
        alreadySending = false;
        this.#changed();
        let outcome: SubmitOutcome;
        const submitting = (async () => {
          const attachments = content.attachments.length > 0 ? await this.getAttachments(row.instanceId) : [];
          return sender.submit({ xml: content.xml, attachments, lastSyncToken });
        })();
        // Nothing is lost if the previous commit failed: see above. Its error still ends
        // the run, once this send has settled.
        let commitFailure: unknown;
        try {
          await settle();
        } catch (e) {
          commitFailure = e ?? new Error('The outbox commit failed');
        }
        try {
          outcome = await submitting;
        } catch (e) {
          if (commitFailure !== undefined) throw commitFailure;
          // Only an abort (close) or a bug lands here; the form goes back in line untouched.
          await this.#setState(seq, { state: 'queued', lastError: toError(e).message });
          this.#changed();
          return stop('aborted', toError(e).message);
        }
        if (commitFailure !== undefined) throw commitFailure;
        const following = batch[i + 1];
        const followingContent = opened[i + 1];
        const next =
          following !== undefined &&
          followingContent !== undefined &&
          !this.#checkLimits(following.size, followingContent.attachments, accepted)
            ? following
            : undefined;
        // The last form of the batch: its outcome's commit reads the next batch too.
        const readNext = following === undefined ? { accepted } : null;
        switch (outcome.status) {
          case 'accepted': {
            const changes: RowChanges = { state: 'sent', sentAt: this.#clock.now(), lastError: undefined };
            if (outcome.message !== undefined) changes.serverMessage = outcome.message;
            alreadySending = next !== undefined && !this.#closed;
            pending = this.#finishAndMarkNext(row, changes, next, readNext);
            sent++;
            this.#failures = 0;
            this.#nextAttemptAt = 0;
            break;
          }
          case 'rejected':
            alreadySending = next !== undefined && !this.#closed;
            pending = this.#finishAndMarkNext(
              row,
              {
                state: 'quarantined',
                quarantineReason: outcome.reason,
                serverMessage: outcome.message,
                lastError: `HTTP ${outcome.httpStatus}`,
              },
              next,
              readNext,
            );
            quarantined++;
            break;
          case 'retry': {
            await this.#setState(seq, { state: 'queued', lastError: outcome.message });
            this.#failures++;
            const delay = backoffDelay(this.#failures, this.#backoff, this.#random, outcome.retryAfterMs);
            this.#nextAttemptAt = this.#clock.now() + delay;
            this.#scheduleRetry(delay);
            this.#changed();
            return stop(outcome.code, outcome.message);
          }
          case 'auth':
            await this.#setState(seq, { state: 'queued', lastError: outcome.message });
            this.#paused = { code: outcome.code, message: outcome.message };
            this.#changed();
            return stop(outcome.code, outcome.message);
        }
        // Listeners hear of the outcome once it is committed (they read the outbox).
        pending = pending.then((step) => {
          this.#changed();
          return step;
        });
      }
      read = await settle();
    }
    const last = (await settle()) ?? read;
    // An empty batch read in the run's last transaction: nothing was left then (a save
    // since has its trigger, and so its run).
    const remaining = last !== null && last.batch.length === 0 ? 0 : await this.#remaining();
    return { sent, quarantined, remaining };
  }

  #scheduleRetry(delay: number): void {
    if (!this.#autoRetry || this.#closed) return;
    this.#retryTimer?.abort();
    const ac = new AbortController();
    this.#retryTimer = ac;
    this.#clock.sleep(delay, ac.signal).then(
      () => {
        if (this.#retryTimer === ac) this.#retryTimer = null;
        void this.trigger('backoff');
      },
      () => undefined,
    );
  }

  /**
   * Re-applies the case blocks of forms not yet delivered (queued/sending), after a fresh
   * restore replaced the case database (412 recovery, DESIGN.md 3: unsent forms are never
   * lost to a restore). Each form on its own; a form whose blocks no longer apply (its case
   * is gone from the new footprint) is reported, not dropped: it is still sent.
   */
  async reapplyPending(): Promise<{ applied: number; failed: { instanceId: string; message: string }[] }> {
    const rows = await this.#open(await this.#table.where('state').anyOf(['queued', 'sending']).toArray());
    rows.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    const sealed = this.#cipher() !== null;
    let applied = 0;
    const failed: { instanceId: string; message: string }[] = [];
    for (const r of rows) {
      try {
        const blocks = readForm(r.xml).caseBlocks;
        // An encrypted case database runs its own two-phase write (no outer transaction).
        if (sealed) await this.#cases.applyBlocks(blocks);
        else await this.#db.transaction('rw', this.#cases.tables(), () => this.#cases.applyBlocks(blocks));
        applied++;
      } catch (e) {
        failed.push({ instanceId: r.instanceId, message: toError(e).message });
      }
    }
    return { applied, failed };
  }

  /** Drops the payloads (XML, attachments) of forms sent before `olderThan`; the records stay. */
  async prune(olderThan: number): Promise<number> {
    const c = this.#cipher();
    if (c !== null) return this.#pruneSealed(c, olderThan);
    const n = await this.#write('pruning', () =>
      this.#db.transaction('rw', [this.#table, this.#blobs], async () => {
        const rows = await this.#table
          .where('state')
          .equals('sent')
          .filter((r) => !r.pruned && (r.sentAt ?? 0) < olderThan)
          .toArray();
        for (const r of rows) {
          await this.#table.update(r.seq ?? -1, (x) => patch(x, { xml: '', pruned: true }));
          await this.#blobs.where('instanceId').equals(r.instanceId).delete();
        }
        return rows.length;
      }),
    );
    if (n > 0) this.#changed();
    return n;
  }

  /** `prune` on an encrypted database: the sealed content is re-sealed without the XML first. */
  async #pruneSealed(c: RecordCipher, olderThan: number): Promise<number> {
    const found = await this.#table
      .where('state')
      .equals('sent')
      .filter((r) => !r.pruned && (r.sentAt ?? 0) < olderThan)
      .toArray();
    const replaced = await Promise.all(
      (await this.#open(found)).map(async (r) => sealOutboxRow(c, { ...r, xml: '', pruned: true })),
    );
    const n = await this.#write('pruning', () =>
      this.#db.transaction('rw', [this.#table, this.#blobs], async () => {
        let done = 0;
        for (const r of replaced) {
          const cur = await this.#table.get(r.seq ?? -1);
          if (cur?.state !== 'sent' || cur.pruned) continue;
          await this.#table.put({ ...r, state: cur.state });
          await this.#blobs.where('instanceId').equals(r.instanceId).delete();
          done++;
        }
        return done;
      }),
    );
    if (n > 0) this.#changed();
    return n;
  }

  /** Pending, draft and quarantined forms with their attachments, as a portable object. */
  async exportPending(): Promise<OutboxExport> {
    const rows = await this.#open(
      await this.#table.where('state').anyOf(['incomplete', 'queued', 'sending', 'quarantined']).toArray(),
    );
    rows.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    const forms: ExportedForm[] = [];
    for (const r of rows) {
      const blobs = await this.#openBlobs(
        await this.#blobs.where('instanceId').equals(r.instanceId).toArray(),
      );
      const f: ExportedForm = {
        instanceId: r.instanceId,
        xmlns: r.xmlns,
        formName: r.formName,
        state: r.state === 'sending' ? 'queued' : (r.state as ExportedForm['state']),
        xml: r.xml,
        size: r.size,
        createdAt: r.createdAt,
        caseIds: r.caseIds,
        attachments: blobs.map((b) => ({
          name: b.name,
          type: b.type,
          data: bytesToBase64(new Uint8Array(b.data)),
        })),
      };
      if (r.quarantineReason !== undefined) f.quarantineReason = r.quarantineReason;
      if (r.serverMessage !== undefined) f.serverMessage = r.serverMessage;
      if (r.draftJson !== undefined) f.draft = JSON.parse(r.draftJson) as StoredDraft;
      forms.push(f);
    }
    return {
      format: 'fieldsim-outbox',
      version: 1,
      exportedAt: new Date(this.#clock.now()).toISOString(),
      forms,
    };
  }

  /**
   * Adds the forms of an export that this outbox does not hold yet (by instanceID, so an
   * import twice is harmless), in the file's order, after everything already queued. With
   * `applyCases`, each imported pending form's case blocks are applied locally in the same
   * transaction; a form whose blocks do not apply is reported and not imported.
   */
  async importForms(data: OutboxExport, opts: { applyCases?: boolean } = {}): Promise<ImportResult> {
    if (data.format !== 'fieldsim-outbox' || data.version !== 1)
      throw new FieldsimError('invalid-argument', 'Not a fieldsim outbox export');
    if (!Array.isArray(data.forms))
      throw new FieldsimError('invalid-argument', 'Not a fieldsim outbox export');
    const result: ImportResult = { imported: 0, skipped: 0, failed: [] };
    const c = this.#cipher();
    for (const f of data.forms) {
      try {
        checkExportedForm(f);
        if (c !== null) {
          if (await this.#serial(() => this.#importSealed(c, f, opts.applyCases ?? false))) result.imported++;
          else result.skipped++;
          continue;
        }
        const blocks = opts.applyCases && f.state === 'queued' ? readForm(f.xml).caseBlocks : [];
        const tables =
          blocks.length > 0
            ? [this.#table, this.#blobs, ...this.#cases.tables()]
            : [this.#table, this.#blobs];
        const added = await this.#write('importing', () =>
          this.#db.transaction('rw', tables, async () => {
            if ((await this.#table.where('instanceId').equals(f.instanceId).count()) > 0) return false;
            if (blocks.length > 0) await this.#cases.applyBlocks(blocks);
            await this.#table.add(importedRow(f, this.#clock.now()));
            await this.#blobs.bulkPut(importedBlobs(f));
            return true;
          }),
        );
        if (added) result.imported++;
        else result.skipped++;
      } catch (e) {
        const id = (f as { instanceId?: unknown } | null)?.instanceId;
        result.failed.push({ instanceId: typeof id === 'string' ? id : '', message: toError(e).message });
      }
    }
    if (result.imported > 0) {
      this.#changed();
      void this.trigger('manual');
    }
    return result;
  }

  /** One form of `importForms` on an encrypted database: prepared and sealed, then written. */
  async #importSealed(c: RecordCipher, f: ExportedForm, applyCases: boolean): Promise<boolean> {
    const blocks = applyCases && f.state === 'queued' ? readForm(f.xml).caseBlocks : [];
    const sealed = await sealOutboxRow(c, importedRow(f, this.#clock.now()));
    const sealedBlobs = await Promise.all(importedBlobs(f).map((b) => sealOutboxBlob(c, b)));
    for (let attempt = 0; ; attempt++) {
      if ((await this.#table.where('instanceId').equals(f.instanceId).count()) > 0) return false;
      const cases =
        blocks.length > 0 && this.#cases.prepareBlocks ? await this.#cases.prepareBlocks(blocks) : undefined;
      try {
        return await this.#write('importing', () =>
          this.#db.transaction('rw', [this.#table, this.#blobs, ...this.#cases.tables()], async () => {
            if ((await this.#table.where('instanceId').equals(f.instanceId).count()) > 0) return false;
            await cases?.write();
            await this.#table.add(sealed);
            if (sealedBlobs.length > 0) await this.#blobs.bulkPut(sealedBlobs);
            return true;
          }),
        );
      } catch (e) {
        if (isStale(e) && attempt < STALE_RETRIES) {
          await staleBackoff(attempt);
          continue;
        }
        throw e;
      }
    }
  }

  /** Stops scheduled retries; a run in progress finishes its current form. */
  close(): void {
    this.#closed = true;
    this.#retryTimer?.abort();
    this.#retryTimer = null;
    this.#listeners.clear();
  }
}
