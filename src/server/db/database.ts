import Database from 'better-sqlite3';
import { createAuthSchema } from '../auth/schema.ts';
import { ensureForwardingSchema } from '../forwarding/forwarding-schema.ts';
import { createKeyRecordSchema } from '../mobile-auth/key-records.ts';
import { ensureCaseXmlCacheSchema } from '../restore/case-xml-cache.ts';
import { ensureSyncLogAddsSchema } from '../restore/sync-log-adds.ts';
import { ensureSyncLogListsSchema } from '../restore/sync-log-lists.ts';
import { applyIndexedOnSchema } from './indexed-on.ts';
import { hashStoredApiKeys, prepareDataDir } from './secure-storage.ts';

export { cached, type Db } from './db-handle.ts';

import type { Db } from './db-handle.ts';

/** File name of the emulator's database inside the data folder (FIELDSIM_DATA). */
export const DB_FILE = 'fieldsim-hq.sqlite';

/**
 * Schema version 1. One database holds every domain the emulator serves; rows carry
 * their domain so that ids from one project never resolve in another (HQ's
 * `CaseDbCache` domain check, `hq:corehq/form_processor/...`).
 *
 * - users: mobile workers and web users (`kind`), passwords as PBKDF2 verifiers.
 * - cases / case_indices: the current state of each case; indices in their own table
 *   for the reverse lookups livequery needs (extensions and children of a case).
 * - case_transactions: one row per (form, case) with the server date and the sync log
 *   the form was submitted with, for incremental sync and case rebuilds.
 * - forms: every submission with its XML (normal, error, duplicate, deprecated).
 * - sync_logs: what each restore put on the phone (livequery format).
 * - applications / app_files: each app's Application Structure API document, its build
 *   metadata and the files of its current build (what a .ccz holds).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  username TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  phone_numbers TEXT NOT NULL DEFAULT '[]',
  user_data TEXT NOT NULL DEFAULT '{}',
  language TEXT NOT NULL DEFAULT '',
  location_ids TEXT NOT NULL DEFAULT '[]',
  primary_location TEXT,
  date_joined TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1,
  deleted INTEGER NOT NULL DEFAULT 0,
  api_key TEXT,
  role TEXT NOT NULL DEFAULT '',
  is_admin INTEGER NOT NULL DEFAULT 0,
  force_412 INTEGER NOT NULL DEFAULT 0,
  loadtest_factor INTEGER NOT NULL DEFAULT 1,
  profile TEXT NOT NULL DEFAULT '',
  tableau_role TEXT
);
CREATE INDEX IF NOT EXISTS users_domain ON users(domain, kind);
CREATE UNIQUE INDEX IF NOT EXISTS users_api_key ON users(api_key) WHERE api_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  case_sharing INTEGER NOT NULL DEFAULT 0,
  reporting INTEGER NOT NULL DEFAULT 1,
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS group_members (
  group_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS group_members_user ON group_members(user_id);
CREATE TABLE IF NOT EXISTS locations (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  location_type TEXT NOT NULL,
  site_code TEXT NOT NULL,
  parent_id TEXT,
  shares_cases INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS lookup_tables (
  domain TEXT NOT NULL,
  tag TEXT NOT NULL,
  fields TEXT NOT NULL,
  rows TEXT NOT NULL,
  PRIMARY KEY (domain, tag)
);
CREATE TABLE IF NOT EXISTS applications (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  doc TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 0,
  built_on TEXT NOT NULL DEFAULT '',
  is_released INTEGER NOT NULL DEFAULT 1
);
-- The files of an application's current build, by path as a .ccz holds them
-- (profile.ccpr, suite.xml, default/app_strings.txt, modules-0/forms-0.xml, ...).
CREATE TABLE IF NOT EXISTS app_files (
  app_id TEXT NOT NULL,
  path TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (app_id, path)
);
CREATE TABLE IF NOT EXISTS cases (
  case_id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  case_type TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  owner_id TEXT NOT NULL DEFAULT '',
  closed INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  opened_on TEXT,
  opened_by TEXT NOT NULL DEFAULT '',
  closed_on TEXT,
  closed_by TEXT NOT NULL DEFAULT '',
  modified_on TEXT NOT NULL,
  server_modified_on TEXT NOT NULL,
  server_opened_on TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  external_id TEXT NOT NULL DEFAULT '',
  location_id TEXT NOT NULL DEFAULT '',
  properties TEXT NOT NULL DEFAULT '{}',
  indices TEXT NOT NULL DEFAULT '[]',
  attachments TEXT NOT NULL DEFAULT '[]',
  -- Legacy, no longer written or read: a case's forms come from case_transactions.
  xform_ids TEXT NOT NULL DEFAULT '[]',
  indexed_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_owner ON cases(domain, owner_id, closed);
CREATE INDEX IF NOT EXISTS cases_type ON cases(domain, case_type);
CREATE INDEX IF NOT EXISTS cases_server_modified ON cases(domain, server_modified_on);
CREATE TABLE IF NOT EXISTS case_indices (
  case_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  referenced_id TEXT NOT NULL,
  referenced_type TEXT NOT NULL,
  relationship TEXT NOT NULL,
  PRIMARY KEY (case_id, identifier)
);
CREATE INDEX IF NOT EXISTS case_indices_ref ON case_indices(referenced_id);
-- Every restore's live query reads the domain's extension edges (restore/generate.ts
-- liveQuery); without this partial index that is a scan of every case index in the domain
-- (one worker's 100-case restore in a 100k-case domain: ~10.6 ms median, ~2 ms with it).
-- IF NOT EXISTS gives older databases the index when they are next opened.
CREATE INDEX IF NOT EXISTS case_indices_extension ON case_indices(relationship) WHERE relationship = 'extension';
CREATE TABLE IF NOT EXISTS case_transactions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id TEXT NOT NULL,
  form_id TEXT NOT NULL,
  server_date TEXT NOT NULL,
  client_date TEXT NOT NULL,
  sync_log_id TEXT,
  user_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS case_tx_case ON case_transactions(case_id, server_date);
CREATE INDEX IF NOT EXISTS case_tx_form ON case_transactions(form_id);
CREATE INDEX IF NOT EXISTS case_tx_date ON case_transactions(server_date);
CREATE TABLE IF NOT EXISTS ledger_values (
  domain TEXT NOT NULL,
  case_id TEXT NOT NULL,
  section_id TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  balance REAL NOT NULL,
  last_modified TEXT NOT NULL,
  PRIMARY KEY (case_id, section_id, entry_id)
);
CREATE INDEX IF NOT EXISTS ledger_values_domain ON ledger_values(domain);
CREATE TABLE IF NOT EXISTS forms (
  form_id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  state TEXT NOT NULL,
  xmlns TEXT NOT NULL DEFAULT '',
  xml TEXT NOT NULL,
  md5 TEXT NOT NULL,
  received_on TEXT NOT NULL,
  server_modified_on TEXT NOT NULL,
  edited_on TEXT,
  user_id TEXT NOT NULL DEFAULT '',
  username TEXT NOT NULL DEFAULT '',
  auth_user_id TEXT NOT NULL DEFAULT '',
  app_id TEXT NOT NULL DEFAULT '',
  build_id TEXT NOT NULL DEFAULT '',
  problem TEXT NOT NULL DEFAULT '',
  orig_id TEXT,
  deprecated_form_id TEXT,
  submit_ip TEXT NOT NULL DEFAULT '',
  openrosa_version TEXT NOT NULL DEFAULT '',
  last_sync_token TEXT,
  date_header TEXT,
  meta TEXT NOT NULL DEFAULT '{}',
  case_ids TEXT NOT NULL DEFAULT '[]',
  seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS forms_received ON forms(domain, received_on);
CREATE INDEX IF NOT EXISTS forms_xmlns ON forms(domain, xmlns);
CREATE TABLE IF NOT EXISTS form_attachments (
  form_id TEXT NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (form_id, name)
);
CREATE TABLE IF NOT EXISTS sync_logs (
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  user_id TEXT NOT NULL,
  date TEXT NOT NULL,
  previous_log_id TEXT,
  device_id TEXT NOT NULL DEFAULT '',
  app_id TEXT NOT NULL DEFAULT '',
  owner_ids TEXT NOT NULL,
  case_ids_on_phone TEXT NOT NULL,
  dependent_case_ids TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_logs_user ON sync_logs(user_id, date);
`;

/**
 * Columns added after schema version 1: CREATE TABLE IF NOT EXISTS leaves an existing
 * table alone, so a database from before gets them here.
 */
const ADDED_COLUMNS: [table: string, column: string, definition: string][] = [
  ['users', 'profile', "TEXT NOT NULL DEFAULT ''"],
  ['users', 'tableau_role', 'TEXT'],
  ['applications', 'name', "TEXT NOT NULL DEFAULT ''"],
  ['applications', 'version', 'INTEGER NOT NULL DEFAULT 0'],
  ['applications', 'built_on', "TEXT NOT NULL DEFAULT ''"],
  ['applications', 'is_released', 'INTEGER NOT NULL DEFAULT 1'],
];

function addMissingColumns(db: Db): void {
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const have = db.prepare(`SELECT 1 FROM pragma_table_info('${table}') WHERE name = ?`).get(column);
    if (!have) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/** Opens (creating if needed) the emulator database in `dataDir`. */
export function openDatabase(dataDir: string): Db {
  const db = new Database(prepareDataDir(dataDir, DB_FILE));
  // WAL with synchronous=NORMAL: a commit survives the emulator being stopped or killed,
  // and an OS crash or power loss can lose at most the last commits, never corrupt the
  // file. OFF was measured 2x faster in process (~2.7k vs ~1.2k forms/s) but risks a
  // corrupt database on power loss; the receiver is still well above its 500 forms/s target.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  // Statement journals (each multi-row write inside a transaction keeps one) in memory, not
  // in temp files: a third less receiver CPU per form (0.48 vs 0.69 ms, same run), half its
  // system time. Durability is the WAL's; temp files never held committed data.
  db.pragma('temp_store = MEMORY');
  db.exec(SCHEMA);
  addMissingColumns(db);
  ensureForwardingSchema(db);
  applyIndexedOnSchema(db);
  createAuthSchema(db);
  createKeyRecordSchema(db);
  ensureCaseXmlCacheSchema(db);
  ensureSyncLogAddsSchema(db);
  ensureSyncLogListsSchema(db);
  hashStoredApiKeys(db);
  return db;
}

export function getMeta(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}
