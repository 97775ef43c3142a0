import type Database from 'better-sqlite3';
import type { CaseAttachment, CaseIndex } from '../../core/protocol/casexml/case-types.ts';
import type { Db } from './database.ts';
import { nextIndexedOn } from './indexed-on.ts';

/** A case as HQ stores it (the fields of `CommCareCase` that fieldsim uses). */
export interface StoredCase {
  caseId: string;
  domain: string;
  caseType: string;
  name: string;
  ownerId: string;
  closed: boolean;
  deleted: boolean;
  /** ISO datetime (UTC) or null. */
  openedOn: string | null;
  openedBy: string;
  closedOn: string | null;
  closedBy: string;
  /** Phone `date_modified` of the latest change, ISO UTC. */
  modifiedOn: string;
  serverModifiedOn: string;
  serverOpenedOn: string;
  /** Last modifier. */
  userId: string;
  externalId: string;
  locationId: string;
  properties: Record<string, string>;
  indices: CaseIndex[];
  attachments: CaseAttachment[];
  /**
   * Forms that touched the case, oldest first. Like HQ's SQL case (`xform_ids` is derived
   * from the case's `CaseTransaction` rows, hq:corehq/form_processor/models/cases.py) it is
   * read from `case_transactions`, never stored on the case row: a busy case would
   * otherwise rewrite an ever-growing list on every form.
   */
  xformIds: string[];
  indexedOn: string;
}

export interface CaseRow {
  case_id: string;
  domain: string;
  case_type: string;
  name: string;
  owner_id: string;
  closed: number;
  deleted: number;
  opened_on: string | null;
  opened_by: string;
  closed_on: string | null;
  closed_by: string;
  modified_on: string;
  server_modified_on: string;
  server_opened_on: string;
  user_id: string;
  external_id: string;
  location_id: string;
  properties: string;
  indices: string;
  attachments: string;
  indexed_on: string;
}

/** A row as a case, `xformIds` left empty (`CaseRepo.withFormIds` fills it). */
export function rowToCase(r: CaseRow): StoredCase {
  return {
    caseId: r.case_id,
    domain: r.domain,
    caseType: r.case_type,
    name: r.name,
    ownerId: r.owner_id,
    closed: r.closed === 1,
    deleted: r.deleted === 1,
    openedOn: r.opened_on,
    openedBy: r.opened_by,
    closedOn: r.closed_on,
    closedBy: r.closed_by,
    modifiedOn: r.modified_on,
    serverModifiedOn: r.server_modified_on,
    serverOpenedOn: r.server_opened_on,
    userId: r.user_id,
    externalId: r.external_id,
    locationId: r.location_id,
    properties: JSON.parse(r.properties) as Record<string, string>,
    indices: JSON.parse(r.indices) as CaseIndex[],
    attachments: JSON.parse(r.attachments) as CaseAttachment[],
    xformIds: [],
    indexedOn: r.indexed_on,
  };
}

/** The stored row of a case (the columns of CASE_COLUMNS). */
function caseToRow(c: StoredCase): CaseRow {
  return {
    case_id: c.caseId,
    domain: c.domain,
    case_type: c.caseType,
    name: c.name,
    owner_id: c.ownerId,
    closed: c.closed ? 1 : 0,
    deleted: c.deleted ? 1 : 0,
    opened_on: c.openedOn,
    opened_by: c.openedBy,
    closed_on: c.closedOn,
    closed_by: c.closedBy,
    modified_on: c.modifiedOn,
    server_modified_on: c.serverModifiedOn,
    server_opened_on: c.serverOpenedOn,
    user_id: c.userId,
    external_id: c.externalId,
    location_id: c.locationId,
    properties: JSON.stringify(c.properties),
    indices: JSON.stringify(c.indices),
    attachments: JSON.stringify(c.attachments),
    indexed_on: c.indexedOn,
  };
}

/** The columns an update may change (the upsert's DO UPDATE SET list). */
const UPDATABLE = [
  'case_type',
  'name',
  'owner_id',
  'closed',
  'deleted',
  'opened_on',
  'opened_by',
  'closed_on',
  'closed_by',
  'modified_on',
  'server_modified_on',
  'server_opened_on',
  'user_id',
  'external_id',
  'location_id',
  'properties',
  'indices',
  'attachments',
  'indexed_on',
] as const satisfies readonly (keyof CaseRow)[];

/** Every column but the unused legacy `xform_ids` (see `StoredCase.xformIds`). */
export const CASE_COLUMNS =
  'case_id, domain, case_type, name, owner_id, closed, deleted, opened_on, opened_by, closed_on, closed_by, ' +
  'modified_on, server_modified_on, server_opened_on, user_id, external_id, location_id, properties, indices, ' +
  'attachments, indexed_on';

/** Prepared statements for case rows, built once per database. */
export class CaseRepo {
  readonly #get: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #delIdx: Database.Statement;
  readonly #insIdx: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #formIds: Database.Statement;
  /** `UPDATE cases SET <these columns>` statements, by column list. */
  readonly #updates = new Map<string, Database.Statement>();

  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
    this.#get = db.prepare(`SELECT ${CASE_COLUMNS} FROM cases WHERE case_id = ?`);
    this.#upsert = db.prepare(`INSERT INTO cases (case_id, domain, case_type, name, owner_id, closed, deleted,
      opened_on, opened_by, closed_on, closed_by, modified_on, server_modified_on, server_opened_on, user_id,
      external_id, location_id, properties, indices, attachments, indexed_on)
      VALUES (@case_id, @domain, @case_type, @name, @owner_id, @closed, @deleted, @opened_on, @opened_by,
      @closed_on, @closed_by, @modified_on, @server_modified_on, @server_opened_on, @user_id, @external_id,
      @location_id, @properties, @indices, @attachments, @indexed_on)
      ON CONFLICT(case_id) DO UPDATE SET case_type=excluded.case_type, name=excluded.name,
      owner_id=excluded.owner_id, closed=excluded.closed, deleted=excluded.deleted, opened_on=excluded.opened_on,
      opened_by=excluded.opened_by, closed_on=excluded.closed_on, closed_by=excluded.closed_by,
      modified_on=excluded.modified_on, server_modified_on=excluded.server_modified_on,
      server_opened_on=excluded.server_opened_on, user_id=excluded.user_id, external_id=excluded.external_id,
      location_id=excluded.location_id, properties=excluded.properties, indices=excluded.indices,
      attachments=excluded.attachments, indexed_on=excluded.indexed_on`);
    this.#delIdx = db.prepare('DELETE FROM case_indices WHERE case_id = ?');
    this.#insIdx = db.prepare(
      'INSERT OR REPLACE INTO case_indices (case_id, identifier, referenced_id, referenced_type, relationship) VALUES (?, ?, ?, ?, ?)',
    );
    this.#delete = db.prepare('DELETE FROM cases WHERE case_id = ?');
    this.#formIds = db
      .prepare(
        // Ordered by the form's receipt: an edit keeps its original's place, as HQ updates
        // the existing transaction of that form id instead of adding one.
        `SELECT t.form_id FROM case_transactions t JOIN forms f ON f.form_id = t.form_id
         WHERE t.case_id = ? GROUP BY t.form_id ORDER BY MIN(f.received_on), MIN(t.id)`,
      )
      .pluck();
  }

  /** The case with its `xformIds`, as the APIs and tests see it. */
  get(caseId: string): StoredCase | undefined {
    const c = this.getState(caseId);
    return c ? this.withFormIds(c) : undefined;
  }

  /** The case without `xformIds` (empty): what case processing needs, one row read. */
  getState(caseId: string): StoredCase | undefined {
    const r = this.#get.get(caseId) as CaseRow | undefined;
    return r ? rowToCase(r) : undefined;
  }

  /** The stored row of a case, for `save(c, { before })`. */
  getRow(caseId: string): CaseRow | undefined {
    return this.#get.get(caseId) as CaseRow | undefined;
  }

  /**
   * Fills `xformIds` from the case's transactions (`CommCareCase.xform_ids`: the form ids
   * of its non-revoked form transactions, hq:corehq/form_processor/models/cases.py).
   */
  withFormIds(c: StoredCase): StoredCase {
    c.xformIds = this.#formIds.all(c.caseId) as string[];
    return c;
  }

  /**
   * Writes the case and its index rows. Call inside a transaction. With `before`, the row
   * the case was read from in the same transaction (`getRow`), only the columns that
   * changed are written: an upsert naming every column rewrites the entry of every index
   * of `cases` (SQLite updates an index when the SET list names one of its columns), and
   * a form updating a few properties then dirtied the owner and type index pages too.
   * Index rows are rewritten only when the indices changed.
   */
  save(c: StoredCase, opts: { before?: CaseRow | undefined } = {}): void {
    // Every write re-indexes the case, as HQ's pillow does: a fresh, unique stamp.
    c.indexedOn = nextIndexedOn(this.db);
    const row = caseToRow(c);
    const before = opts.before;
    if (before !== undefined && before.case_id === c.caseId && this.#update(row, before)) {
      if (row.indices !== before.indices) this.#writeIndices(c);
      return;
    }
    this.#upsert.run(row);
    this.#writeIndices(c);
  }

  /** Writes the changed columns of an existing row; false when the row is not there. */
  #update(row: CaseRow, before: CaseRow): boolean {
    const changed = UPDATABLE.filter((k) => row[k] !== before[k]);
    if (changed.length === 0) return true;
    const key = changed.join(',');
    let st = this.#updates.get(key);
    if (!st) {
      st = this.db.prepare(
        `UPDATE cases SET ${changed.map((k) => `${k} = @${k}`).join(', ')} WHERE case_id = @case_id`,
      );
      this.#updates.set(key, st);
    }
    const values: Record<string, unknown> = { case_id: row.case_id };
    for (const k of changed) values[k] = row[k];
    return st.run(values).changes === 1;
  }

  #writeIndices(c: StoredCase): void {
    this.#delIdx.run(c.caseId);
    for (const i of c.indices) this.#insIdx.run(c.caseId, i.identifier, i.caseId, i.caseType, i.relationship);
  }

  remove(caseId: string): void {
    this.#delete.run(caseId);
    this.#delIdx.run(caseId);
  }
}
