import { cached, type Db } from '../db/database.ts';
import { nowIso } from '../ids.ts';

/**
 * The repeat-record log (HQ's `RepeatRecord`, hq:corehq/motech/repeaters/models.py):
 *
 *   pending ──2xx──▶ success
 *      │
 *      └─failure─▶ failed ──retry (after back-off)──▶ success
 *                     │
 *                     └─too many attempts / forwarder deleted─▶ cancelled
 *
 * States are HQ's (`State`: Pending, Fail, Success, Cancelled), spelled as the issue asks.
 */
export const RECORD_STATES = ['pending', 'success', 'failed', 'cancelled'] as const;
export type RecordState = (typeof RECORD_STATES)[number];
export type PayloadKind = 'form' | 'case' | 'app';

export interface RepeatRecord {
  id: number;
  forwarderId: string;
  domain: string;
  payloadKind: PayloadKind;
  payloadId: string;
  formSeq: number;
  state: RecordState;
  attempts: number;
  registeredAt: string;
  lastAttemptAt: string | null;
  nextCheck: string | null;
  succeededAt: string | null;
  failureReason: string;
  lastStatus: number | null;
  lastResponse: string;
}

interface RecordRow {
  id: number;
  forwarder_id: string;
  domain: string;
  payload_kind: string;
  payload_id: string;
  form_seq: number;
  state: string;
  attempts: number;
  registered_at: string;
  last_attempt_at: string | null;
  next_check: string | null;
  succeeded_at: string | null;
  failure_reason: string;
  last_status: number | null;
  last_response: string;
}

function fromRow(r: RecordRow): RepeatRecord {
  return {
    id: r.id,
    forwarderId: r.forwarder_id,
    domain: r.domain,
    payloadKind: r.payload_kind as PayloadKind,
    payloadId: r.payload_id,
    formSeq: r.form_seq,
    state: r.state as RecordState,
    attempts: r.attempts,
    registeredAt: r.registered_at,
    lastAttemptAt: r.last_attempt_at,
    nextCheck: r.next_check,
    succeededAt: r.succeeded_at,
    failureReason: r.failure_reason,
    lastStatus: r.last_status,
    lastResponse: r.last_response,
  };
}

/** At most this much of a receiver's answer is kept in the log. */
const RESPONSE_KEEP = 1000;

export function enqueueRecord(
  db: Db,
  r: { forwarderId: string; domain: string; payloadKind: PayloadKind; payloadId: string; formSeq: number },
): void {
  cached(
    db,
    `INSERT INTO repeat_records (forwarder_id, domain, payload_kind, payload_id, form_seq, registered_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(r.forwarderId, r.domain, r.payloadKind, r.payloadId, r.formSeq, nowIso());
}

/** The next records to send, oldest first (sending stops at the first failure, keeping order). */
export function queuedRecords(db: Db, forwarderId: string, afterId: number, limit: number): RepeatRecord[] {
  const rows = cached(
    db,
    `SELECT * FROM repeat_records WHERE forwarder_id = ? AND state IN ('pending', 'failed') AND id > ?
     ORDER BY id LIMIT ?`,
  ).all(forwarderId, afterId, limit) as RecordRow[];
  return rows.map(fromRow);
}

/** Marks sent records as delivered, in one transaction. */
export function markSuccesses(db: Db, done: { id: number; status: number; body: string }[]): void {
  const now = nowIso();
  const st = cached(
    db,
    `UPDATE repeat_records SET state = 'success', attempts = attempts + 1, last_attempt_at = ?, succeeded_at = ?,
       next_check = NULL, failure_reason = '', last_status = ?, last_response = ? WHERE id = ?`,
  );
  db.transaction(() => {
    for (const d of done) st.run(now, now, d.status, d.body.slice(0, RESPONSE_KEEP), d.id);
  })();
}

export function markFailure(
  db: Db,
  id: number,
  f: { status: number | null; body: string; reason: string; cancel: boolean; nextCheck: string | null },
): void {
  cached(
    db,
    `UPDATE repeat_records SET state = ?, attempts = attempts + 1, last_attempt_at = ?, next_check = ?,
       failure_reason = ?, last_status = ?, last_response = ? WHERE id = ?`,
  ).run(
    f.cancel ? 'cancelled' : 'failed',
    nowIso(),
    f.cancel ? null : f.nextCheck,
    f.reason,
    f.status,
    f.body.slice(0, RESPONSE_KEEP),
    id,
  );
}

export function getRecord(db: Db, forwarderId: string, id: number): RepeatRecord | undefined {
  const r = cached(db, 'SELECT * FROM repeat_records WHERE forwarder_id = ? AND id = ?').get(
    forwarderId,
    id,
  ) as RecordRow | undefined;
  return r ? fromRow(r) : undefined;
}

export function listRecords(
  db: Db,
  forwarderId: string,
  opts: { state?: RecordState; payloadId?: string; limit: number; offset: number },
): { total: number; records: RepeatRecord[] } {
  const where = ['forwarder_id = @fid'];
  if (opts.state) where.push('state = @state');
  if (opts.payloadId) where.push('payload_id = @pid');
  const params = { fid: forwarderId, state: opts.state ?? null, pid: opts.payloadId ?? null };
  const sql = where.join(' AND ');
  const total = (
    cached(db, `SELECT COUNT(*) AS n FROM repeat_records WHERE ${sql}`).get(params) as { n: number }
  ).n;
  const rows = cached(
    db,
    `SELECT * FROM repeat_records WHERE ${sql} ORDER BY id LIMIT @limit OFFSET @offset`,
  ).all({
    ...params,
    limit: opts.limit,
    offset: opts.offset,
  }) as RecordRow[];
  return { total, records: rows.map(fromRow) };
}

/** Records per state for one forwarder (the API shows them on the forwarder). */
export function recordCounts(db: Db, forwarderId: string): Record<RecordState, number> {
  const rows = cached(
    db,
    'SELECT state, COUNT(*) AS n FROM repeat_records WHERE forwarder_id = ? GROUP BY state',
  ).all(forwarderId) as { state: RecordState; n: number }[];
  const out: Record<RecordState, number> = { pending: 0, success: 0, failed: 0, cancelled: 0 };
  for (const r of rows) out[r.state] = r.n;
  return out;
}
