import { randomBytes, randomUUID } from 'node:crypto';
import { cached, type Db } from '../db/db-handle.ts';

/**
 * HQ's mobile auth key records (hq:corehq/apps/mobile_auth/models.py, utils.py, views.py),
 * the keys CommCare phones fetch from the profile's `key_server` to encrypt their user
 * sandbox. The rules carried over:
 *   - one record per (domain, user), created at the first fetch with 32 random bytes
 *     (base64), `valid` 30 days BEFORE now (`FetchKeyRecords.get_or_create_current_record`)
 *     and `expires` moved past now in 30-day steps (`bump_expiry`);
 *   - the current record is the newest one with `valid <= now` (`key_for_time`); when it
 *     expired, its expiry is bumped again rather than a new key made, so a user keeps one
 *     key for good. It belongs to the user, not the password: a password change keeps it;
 *   - with `last_issued`, the record valid at that time is returned first, and the
 *     current one after it unless it is the same record.
 * Times are stored as ISO strings with milliseconds (ordered as text).
 */

export interface KeyRecordRow {
  id: string;
  domain: string;
  user_id: string;
  valid: string;
  expires: string;
  type: string;
  key: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const STEP_MS = 30 * DAY_MS;

export function createKeyRecordSchema(db: Db): void {
  db.exec(`
CREATE TABLE IF NOT EXISTS mobile_auth_key_records (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  user_id TEXT NOT NULL,
  valid TEXT NOT NULL,
  expires TEXT NOT NULL,
  type TEXT NOT NULL DEFAULT 'AES256',
  key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mobile_auth_key_records_user ON mobile_auth_key_records(domain, user_id, valid);
`);
}

/** `bump_expiry`: from `expires` (or now), 30-day steps until it is after now. */
export function bumpedExpiry(expiresMs: number | undefined, nowMs: number): number {
  let e = expiresMs ?? nowMs;
  while (e <= nowMs) e += STEP_MS;
  return e;
}

/** `key_for_time`: the newest record of the user valid at `atMs`. */
export function keyForTime(db: Db, domain: string, userId: string, atMs: number): KeyRecordRow | undefined {
  return cached(
    db,
    'SELECT * FROM mobile_auth_key_records WHERE domain = ? AND user_id = ? AND valid <= ? ORDER BY valid DESC LIMIT 1',
  ).get(domain, userId, new Date(atMs).toISOString()) as KeyRecordRow | undefined;
}

function currentRecord(db: Db, domain: string, userId: string, nowMs: number): KeyRecordRow {
  const found = keyForTime(db, domain, userId, nowMs);
  if (!found) {
    const row: KeyRecordRow = {
      id: randomUUID().replaceAll('-', ''),
      domain,
      user_id: userId,
      valid: new Date(nowMs - STEP_MS).toISOString(),
      expires: new Date(bumpedExpiry(undefined, nowMs)).toISOString(),
      type: 'AES256',
      key: randomBytes(32).toString('base64'),
    };
    cached(
      db,
      'INSERT INTO mobile_auth_key_records (id, domain, user_id, valid, expires, type, key) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(row.id, row.domain, row.user_id, row.valid, row.expires, row.type, row.key);
    return row;
  }
  if (Date.parse(found.expires) <= nowMs) {
    const expires = new Date(bumpedExpiry(Date.parse(found.expires), nowMs)).toISOString();
    cached(db, 'UPDATE mobile_auth_key_records SET expires = ? WHERE id = ?').run(expires, found.id);
    return { ...found, expires };
  }
  return found;
}

/** `FetchKeyRecords.get_key_records`: [record at last_issued], current (once). */
export function fetchKeyRecords(
  db: Db,
  domain: string,
  userId: string,
  nowMs: number,
  lastIssuedMs?: number,
): KeyRecordRow[] {
  return db.transaction(() => {
    const old = lastIssuedMs === undefined ? undefined : keyForTime(db, domain, userId, lastIssuedMs);
    const current = currentRecord(db, domain, userId, nowMs);
    return old === undefined ? [current] : old.id === current.id ? [old] : [old, current];
  })();
}

/** eulxml's `CustomDateTimeField` format, `%Y-%m-%dT%H:%M:%SZ`. */
export function keyDate(iso: string | number): string {
  return `${new Date(iso).toISOString().slice(0, 19)}Z`;
}
