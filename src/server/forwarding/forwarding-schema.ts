import type { Db } from '../db/db-handle.ts';

/**
 * Data forwarding tables (HQ's `Repeater` and `RepeatRecord`, hq:corehq/motech/repeaters/models.py).
 *
 * - forwarders: one row per `data-forwarding` resource. `form_cursor` is the `seq` of the
 *   last form turned into repeat records, so the engine reads accepted forms in receipt
 *   order from where it stopped, and a restarted emulator resumes without loss or repeat.
 *   `app_versions` (JSON app id -> version) is the same cursor for AppStructureRepeater.
 *   `next_attempt_at` (epoch ms) is the forwarder's back-off after a failed attempt.
 * - repeat_records: one row per payload to send, in the order sent (`id`).
 *
 * The `forms(domain, seq)` index keeps the engine's cursor read an index range scan.
 */
const FORWARDING_SCHEMA = `
CREATE TABLE IF NOT EXISTS forwarders (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  format TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '2.0',
  auth_type TEXT NOT NULL DEFAULT '',
  username TEXT NOT NULL DEFAULT '',
  password TEXT NOT NULL DEFAULT '',
  white_listed_form_xmlns TEXT NOT NULL DEFAULT '[]',
  white_listed_case_types TEXT NOT NULL DEFAULT '[]',
  black_listed_users TEXT NOT NULL DEFAULT '[]',
  include_app_id_param INTEGER NOT NULL DEFAULT 1,
  paused INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  form_cursor INTEGER NOT NULL DEFAULT 0,
  app_versions TEXT NOT NULL DEFAULT '{}',
  next_attempt_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS forwarders_domain ON forwarders(domain);
CREATE TABLE IF NOT EXISTS repeat_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  forwarder_id TEXT NOT NULL,
  domain TEXT NOT NULL,
  payload_kind TEXT NOT NULL,
  payload_id TEXT NOT NULL,
  form_seq INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  registered_at TEXT NOT NULL,
  last_attempt_at TEXT,
  next_check TEXT,
  succeeded_at TEXT,
  failure_reason TEXT NOT NULL DEFAULT '',
  last_status INTEGER,
  last_response TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS repeat_records_queue ON repeat_records(forwarder_id, state, id);
CREATE INDEX IF NOT EXISTS forms_domain_seq ON forms(domain, seq);
`;

export function ensureForwardingSchema(db: Db): void {
  db.exec(FORWARDING_SCHEMA);
}
