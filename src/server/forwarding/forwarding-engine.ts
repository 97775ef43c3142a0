import { CaseRepo } from '../db/cases.ts';
import { cached, type Db } from '../db/database.ts';
import { type Forwarder, ForwarderStore } from './forwarder-store.ts';
import { buildPayload } from './forwarding-payloads.ts';
import { directWriter, type ForwardingWrite, type ForwardingWriter } from './forwarding-writes.ts';
import { PayloadPoster } from './post-payload.ts';
import { queuedRecords, type RepeatRecord } from './repeat-records.ts';

export interface ForwardingOptions {
  /** How often the engine looks for new forms and due retries, ms. */
  pollMs: number;
  /** First wait after a failed attempt; doubles per consecutive failure up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Attempts before a record the receiver rejects (4xx but 408/429) is cancelled (HQ's `MAX_ATTEMPTS`). */
  maxAttempts: number;
  /**
   * Attempts before a record is cancelled while the receiver is unreachable or failing
   * (network error, timeout, 5xx, 408, 429). HQ's `MAX_BACKOFF_ATTEMPTS` is 6 over hours of
   * back-off; the emulator's back-off is seconds, so it allows more.
   */
  maxServerAttempts: number;
  /** One attempt's time limit, ms. */
  timeoutMs: number;
  /** Records read and sent per round. */
  batch: number;
}

export const DEFAULT_FORWARDING: ForwardingOptions = {
  pollMs: 50,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
  maxAttempts: 3,
  maxServerAttempts: 12,
  timeoutMs: 30_000,
  batch: 500,
};

/** Successes are written in one transaction per this many records (a crash resends at most these). */
const SUCCESS_FLUSH = 100;

type Outcome =
  | { ok: true; status: number; body: string }
  | { ok: false; status: number | null; body: string; reason: string; serverSide: boolean };

interface FormScanRow {
  form_id: string;
  seq: number;
  state: string;
  xmlns: string;
  user_id: string;
  case_ids: string;
}

/** Exponential back-off: base, 2x base, 4x base, ... capped. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

/**
 * Forwards each domain's accepted forms, changed cases and new app builds to its
 * forwarders (HQ's repeaters, hq:corehq/motech/repeaters). It runs beside the receiver and
 * never inside it: each forwarder keeps a cursor on `forms.seq`, so a slow or dead
 * receiver of forwarded data never holds up a phone's submission. Per forwarder, records
 * are sent one at a time in receipt order; a failure stops the forwarder's queue for the
 * back-off (so the order holds once the receiver is back) and retries the same record.
 *
 * Only `normal` forms are forwarded: duplicates, error forms, device logs and deprecated
 * versions never are (`create_form_repeat_records` skips `xform.is_duplicate`,
 * hq:corehq/motech/repeaters/signals.py; error forms never raise `successful_form_received`).
 */
export class ForwardingEngine {
  readonly store: ForwarderStore;
  readonly options: ForwardingOptions;
  readonly #db: Db;
  readonly #cases: CaseRepo;
  readonly #running = new Map<string, Promise<void>>();
  /** Consecutive failed attempts per forwarder (reset on a success), for the back-off. */
  readonly #failures = new Map<string, number>();
  readonly #notBefore = new Map<string, number>();
  /** Forwarders edited or deleted through the API since their round started. */
  readonly #changed = new Set<string>();
  readonly #poster = new PayloadPoster();
  readonly #write: ForwardingWriter;
  /**
   * The last record delivered per forwarder. Records go out in id order, so the queue is
   * read after it: a delivery is marked in the database in the background, never waited
   * for (in a thread, each write is a round trip through the busy main thread).
   */
  readonly #lastDelivered = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stop = new AbortController();
  #started = false;
  /** Records delivered since start (the bench reads it). */
  delivered = 0;

  /** `write` applies the engine's writes (default: straight to `db`; in a thread: via the main thread). */
  constructor(db: Db, options: Partial<ForwardingOptions> = {}, write?: ForwardingWriter) {
    this.#db = db;
    this.#write = write ?? directWriter(db);
    this.options = { ...DEFAULT_FORWARDING, ...options };
    this.store = new ForwarderStore(db);
    this.#cases = new CaseRepo(db);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stop = new AbortController();
    this.#schedule(0);
  }

  /** Stops polling and aborts attempts in flight (they are retried after a restart). */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stop.abort();
    await Promise.allSettled([...this.#running.values()]);
    this.#poster.close();
  }

  /** Looks for work now (after a forwarder was created, changed or deleted). */
  wake(forwarderId?: string): void {
    if (forwarderId) {
      if (this.#running.has(forwarderId)) this.#changed.add(forwarderId);
      this.#failures.delete(forwarderId);
      this.#notBefore.delete(forwarderId);
    }
    if (this.#started) this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), ms);
    // The emulator's HTTP server keeps the process alive; the engine alone must not.
    this.#timer.unref?.();
  }

  #tick(): void {
    this.#timer = null;
    if (!this.#started || !this.#db.open) return;
    for (const f of this.store.list()) {
      if (this.#running.has(f.id)) continue;
      const run = this.#pump(f)
        .catch((e: unknown) => {
          if (this.#db.open) console.error(`[fieldsim-hq] forwarding ${f.id}: ${String(e)}`);
        })
        .finally(() => this.#running.delete(f.id));
      this.#running.set(f.id, run);
    }
    this.#schedule(this.options.pollMs);
  }

  async #pump(f: Forwarder): Promise<void> {
    this.#changed.delete(f.id);
    await this.#enqueue(f);
    // Delivered records are marked in batches, in the background (see #lastDelivered).
    const done: Extract<ForwardingWrite, { op: 'success' }>['done'] = [];
    const writes: Promise<void>[] = [];
    const flush = () => {
      if (done.length > 0) writes.push(this.#write({ op: 'success', done: done.splice(0) }));
    };
    try {
      for (;;) {
        if (f.paused || !this.#started) return;
        if (Date.now() < (this.#notBefore.get(f.id) ?? 0)) return;
        const records = queuedRecords(this.#db, f.id, this.#lastDelivered.get(f.id) ?? 0, this.options.batch);
        if (records.length === 0) return;
        for (const r of records) {
          const outcome = await this.#attempt(f, r);
          if (outcome.ok) {
            done.push({ id: r.id, status: outcome.status, body: outcome.body });
            this.#lastDelivered.set(f.id, r.id);
            if (done.length >= SUCCESS_FLUSH) flush();
            this.#failures.delete(f.id);
            this.delivered++;
          } else {
            if (!this.#started) return;
            flush();
            await this.#fail(f, r, outcome);
            return;
          }
          // Stopping, or edited or deleted meanwhile: the next tick starts from the stored definition.
          if (!this.#started || this.#changed.has(f.id)) return;
        }
        flush();
        await this.#enqueue(f);
      }
    } finally {
      flush();
      await Promise.all(writes);
    }
  }

  async #fail(f: Forwarder, r: RepeatRecord, outcome: Extract<Outcome, { ok: false }>): Promise<void> {
    if (!this.store.get(f.domain, f.id)) return;
    const failures = (this.#failures.get(f.id) ?? 0) + 1;
    this.#failures.set(f.id, failures);
    const wait = backoffDelay(failures, this.options.backoffMs, this.options.maxBackoffMs);
    const limit = outcome.serverSide ? this.options.maxServerAttempts : this.options.maxAttempts;
    const cancel = r.attempts + 1 >= limit;
    this.#notBefore.set(f.id, Date.now() + wait);
    await this.#write({
      op: 'failure',
      id: r.id,
      status: outcome.status,
      body: outcome.body,
      reason: cancel ? `${outcome.reason} (cancelled after ${r.attempts + 1} attempts)` : outcome.reason,
      cancel,
      nextCheck: new Date(Date.now() + wait).toISOString(),
    });
  }

  async #attempt(f: Forwarder, r: RepeatRecord): Promise<Outcome> {
    const payload = buildPayload(this.#db, this.#cases, f, r);
    if (typeof payload === 'string')
      return { ok: false, status: null, body: '', reason: payload, serverSide: false };
    const url = new URL(f.url);
    for (const [k, v] of Object.entries(payload.query)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'Content-Type': payload.contentType };
    if (f.authType === 'basic')
      headers.Authorization = `Basic ${Buffer.from(`${f.username}:${f.password}`).toString('base64')}`;
    if (f.authType === 'bearer') headers.Authorization = `Bearer ${f.password}`;
    try {
      const res = await this.#poster.post(url, headers, payload.body, {
        timeoutMs: this.options.timeoutMs,
        signal: this.#stop.signal,
      });
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body: res.body };
      const serverSide = res.status >= 500 || res.status === 408 || res.status === 429;
      return {
        ok: false,
        status: res.status,
        body: res.body,
        reason: `HTTP ${res.status} ${res.statusText}`.trim(),
        serverSide,
      };
    } catch (e) {
      return { ok: false, status: null, body: '', reason: networkReason(e), serverSide: true };
    }
  }

  /** Turns what arrived since the forwarder's cursor into repeat records (one write). */
  async #enqueue(f: Forwarder): Promise<void> {
    if (f.type === 'AppStructureRepeater') return this.#enqueueApps(f);
    const rows = cached(
      this.#db,
      `SELECT form_id, seq, state, xmlns, user_id, case_ids FROM forms WHERE domain = ? AND seq > ?
       ORDER BY seq LIMIT 2000`,
    ).all(f.domain, f.formCursor) as FormScanRow[];
    const last = rows.at(-1)?.seq;
    if (last === undefined) return;
    const caseType = cached(this.#db, 'SELECT case_type FROM cases WHERE case_id = ?').pluck();
    const blocked = new Set(f.blackListedUsers);
    const xmlns = new Set(f.whiteListedFormXmlns);
    const types = new Set(f.whiteListedCaseTypes);
    const items: Extract<ForwardingWrite, { op: 'enqueue' }>['items'] = [];
    for (const row of rows) {
      if (row.state !== 'normal' || blocked.has(row.user_id)) continue;
      if (f.type === 'CaseRepeater') {
        for (const id of JSON.parse(row.case_ids) as string[])
          if (types.size === 0 || types.has(String(caseType.get(id) ?? '')))
            items.push({ kind: 'case', payloadId: id, formSeq: row.seq });
      } else if (xmlns.size === 0 || xmlns.has(row.xmlns))
        items.push({ kind: 'form', payloadId: row.form_id, formSeq: row.seq });
    }
    await this.#write({ op: 'enqueue', forwarderId: f.id, domain: f.domain, items, formCursor: last });
    f.formCursor = last;
  }

  /** A new build of an app (a higher version) is one record with the app id (`AppStructureRepeater`). */
  async #enqueueApps(f: Forwarder): Promise<void> {
    const apps = cached(this.#db, 'SELECT id, version FROM applications WHERE domain = ? ORDER BY id').all(
      f.domain,
    ) as { id: string; version: number }[];
    const changed = apps.filter((a) => (f.appVersions[a.id] ?? -1) < a.version);
    if (changed.length === 0) return;
    const versions = { ...f.appVersions };
    for (const a of changed) versions[a.id] = a.version;
    await this.#write({
      op: 'enqueue',
      forwarderId: f.id,
      domain: f.domain,
      items: changed.map((a) => ({ kind: 'app', payloadId: a.id, formSeq: 0 })),
      appVersions: versions,
    });
    f.appVersions = versions;
  }
}

/** The reason a request never got an answer, as the log shows it (e.g. `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9`). */
function networkReason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === 'TimeoutError') return 'timed out waiting for the receiver';
  if (e.name === 'AbortError') return 'stopped before an answer (emulator stopping)';
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}
