import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { NS } from '../../core/protocol/namespaces.ts';
import { escapeXmlAttr, escapeXmlText } from '../../core/protocol/xml-escape.ts';
import { formatDateHeader, parsePhoneDateTime } from '../casexml/dates.ts';
import { checkIndexCycles } from '../casexml/index-cycles.ts';
import { type ParsedCaseBlock, type ParsedForm, readForm } from '../casexml/parse-form.ts';
import {
  applyBlock,
  type BlockContext,
  blockDate,
  CaseProcessingError,
  checkIndices,
  groupBlocks,
  newCase,
  validateBlock,
} from '../casexml/process-cases.ts';
import { parseXmlTree, XmlLimitError, XmlParseError } from '../casexml/xml-tree.ts';
import { CaseRepo, type CaseRow, rowToCase, type StoredCase } from '../db/cases.ts';
import { cached, type Db } from '../db/database.ts';
import { inTransaction } from '../db/db-handle.ts';
import { nextIndexedOn } from '../db/indexed-on.ts';
import { hexId, nowIso, uuid4 } from '../ids.ts';
import { computeLiveSet, type GraphNode } from '../restore/live-set.ts';
import { addToPhoneList } from '../restore/sync-log-adds.ts';
import { getSyncLog, getSyncLogHead, phoneHas, type SyncLogHead, saveSyncLog } from '../restore/sync-logs.ts';

export interface SubmissionAttachment {
  name: string;
  contentType: string;
  data: Uint8Array;
}

export interface SubmissionInput {
  domain: string;
  xml: string;
  attachments: SubmissionAttachment[];
  authUserId: string;
  /** `X-OpenRosa-Version` (or the `openrosa_version` param). */
  openrosaVersion: string | undefined;
  lastSyncToken: string | undefined;
  appId: string;
  buildId: string;
  submitIp: string;
  /** The HTTP `Date` header as sent (stored in HQ's `date_header` form, see dates.ts). */
  dateHeader: string | undefined;
  /**
   * `X-Submit-Time`, already parsed to ISO UTC: it replaces the time of receipt as the
   * form's `received_on` (`get_received_on`, hq:corehq/ex-submodules/couchforms/getters.py).
   */
  submitTime?: string | undefined;
}

export type ResponseNature = 'submit_success' | 'submit_error' | 'processing_failure';

export interface SubmissionOutcome {
  status: 201 | 422 | 500;
  nature: ResponseNature;
  message: string;
  /** Id the form was stored under (null when nothing was stored). */
  formId: string | null;
  kind: 'normal' | 'duplicate' | 'edit' | 'error' | 'submission-error' | 'device-log';
}

/** HQ's `SYSTEM_USER_ID` and the xmlns of forms HQ submits itself (`SYSTEM_FORM_XMLNS`). */
const SYSTEM_USER_ID = 'system';
const SYSTEM_FORM_XMLNS = 'http://commcarehq.org/case';

/** The success text HQ sends to phones: √ with three spaces each side (PROTOCOL.md 7.3). */
export const SUCCESS_TEXT = '   √   ';

/** OpenRosa 3.0 switches known processing errors from 201 submit_error to 422. */
export function isOpenRosa3(version: string | undefined): boolean {
  if (!version) return false;
  const v = Number.parseFloat(version);
  return Number.isFinite(v) && v >= 3;
}

interface FormRow {
  form_id: string;
  domain: string;
  state: string;
  xml: string;
  md5: string;
  received_on: string;
  case_ids: string;
  user_id: string;
}

interface TxRow {
  form_id: string;
  server_date: string;
  client_date: string;
  user_id: string;
  xml: string;
  seq: number;
  received_on: string;
}

/** HQ's 12-hour window (`SIGNIFICANT_TIME`) in reconcile_transactions. */
const SIGNIFICANT_MS = 12 * 3600 * 1000;

/**
 * The receiver's processing pipeline (PROTOCOL.md 7.4-7.6 and 8), on SQLite: parse, detect
 * duplicates and edits, apply case blocks in HQ's order, save the form (or an error
 * form), and update the submitting phone's sync log.
 */
export class FormProcessor {
  readonly #db: Db;
  readonly #cases: CaseRepo;
  readonly #getForm: Database.Statement;
  readonly #insertForm: Database.Statement;
  readonly #insertTx: Database.Statement;
  readonly #insertAttachment: Database.Statement;
  readonly #caseExists: Database.Statement;
  readonly #indexTargets: Database.Statement;
  readonly #firstTx: Database.Statement;
  readonly #txsOfCase: Database.Statement;
  #seq = 0;
  /**
   * Domains with HQ's `EXTENSION_CASES_SYNC_ENABLED` toggle: closing a host there closes
   * its open extensions too (see `#closeExtensions`).
   */
  readonly extensionCasesSyncDomains = new Set<string>();

  constructor(db: Db) {
    this.#db = db;
    this.#cases = new CaseRepo(db);
    this.#getForm = db.prepare('SELECT * FROM forms WHERE form_id = ?');
    this.#insertForm =
      db.prepare(`INSERT OR REPLACE INTO forms (form_id, domain, state, xmlns, xml, md5, received_on,
      server_modified_on, edited_on, user_id, username, auth_user_id, app_id, build_id, problem, orig_id,
      deprecated_form_id, submit_ip, openrosa_version, last_sync_token, date_header, meta, case_ids, seq, indexed_on)
      VALUES (@form_id, @domain, @state, @xmlns, @xml, @md5, @received_on, @server_modified_on, @edited_on, @user_id,
      @username, @auth_user_id, @app_id, @build_id, @problem, @orig_id, @deprecated_form_id, @submit_ip,
      @openrosa_version, @last_sync_token, @date_header, @meta, @case_ids, @seq, @indexed_on)`);
    this.#insertTx = db.prepare(
      'INSERT INTO case_transactions (case_id, form_id, server_date, client_date, sync_log_id, user_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertAttachment = db.prepare(
      'INSERT OR REPLACE INTO form_attachments (form_id, name, content_type, data) VALUES (?, ?, ?, ?)',
    );
    this.#caseExists = db.prepare('SELECT 1 FROM cases WHERE case_id = ? AND domain = ?');
    this.#indexTargets = db.prepare('SELECT referenced_id FROM case_indices WHERE case_id = ?').pluck();
    this.#firstTx = db.prepare('SELECT MIN(server_date) AS d FROM case_transactions WHERE case_id = ?');
    this.#txsOfCase = db.prepare(
      `SELECT t.form_id, t.server_date, t.client_date, t.user_id, f.xml, f.seq, f.received_on FROM case_transactions t
       JOIN forms f ON f.form_id = t.form_id WHERE t.case_id = ? AND f.state = 'normal' ORDER BY t.id`,
    );
    const max = db.prepare('SELECT MAX(seq) AS s FROM forms').get() as { s: number | null };
    this.#seq = max.s ?? 0;
  }

  get cases(): CaseRepo {
    return this.#cases;
  }

  submit(input: SubmissionInput): SubmissionOutcome {
    const now = nowIso();
    // What the form records as received; server dates (transactions, case
    // server_modified_on) stay the processing time, which incremental sync relies on.
    const received = input.submitTime ?? now;
    const v3 = isOpenRosa3(input.openrosaVersion);
    let form: ParsedForm;
    try {
      form = readForm(parseXmlTree(input.xml));
    } catch (e) {
      // Over the parser's limits: refused whole (the route answers 413), nothing stored.
      if (e instanceof XmlLimitError) throw e;
      const why = e instanceof XmlParseError ? e.message : String(e);
      return this.#submissionError(input, now, received, `Invalid XML: ${why}`);
    }
    // `Form is missing a required field: XMLNS` (test_missing_xmlns): 500, kept as a
    // SubmissionErrorLog.
    if (form.xmlns === '')
      return this.#submissionError(input, now, received, 'Form is missing a required field: XMLNS');

    const md5 = createHash('md5').update(input.xml).digest('hex');
    let formId = form.meta.instanceID || uuid4();
    const meta = { ...form.meta, instanceID: formId };

    if (form.isDeviceReport) {
      // Device logs go to their own processing; case-like content inside is ignored.
      const id = uuid4();
      this.#storeForm(input, {
        formId: id,
        state: 'devicelog',
        form,
        md5,
        now,
        receivedOn: received,
        meta,
        caseIds: [],
      });
      return { status: 201, nature: 'submit_success', message: SUCCESS_TEXT, formId: id, kind: 'device-log' };
    }

    const existing = this.#getForm.get(formId) as FormRow | undefined;
    let edit: FormRow | undefined;
    if (existing) {
      if (existing.domain !== input.domain || !['normal', 'error'].includes(existing.state)) {
        // An id from another domain or doc type: the new form silently gets a fresh id
        // (hq:corehq/form_processor/parsers/form.py).
        formId = uuid4();
        meta.instanceID = formId;
      } else if (existing.md5 === md5 && existing.state === 'normal') {
        return this.#duplicate(input, existing, form, md5, now, received, v3);
      } else if (existing.state === 'normal') {
        edit = existing;
      }
      // An errored original with the same id is processed again in its place.
    }

    const receivedOn = edit ? edit.received_on : received;
    const ctx: BlockContext = {
      formId,
      formUserId: form.meta.userID ?? '',
      receivedOn,
      now,
      domain: input.domain,
    };
    const log = input.lastSyncToken ? getSyncLogHead(this.#db, input.lastSyncToken) : undefined;
    // The log the token names is updated whoever submitted: HQ's _update_sync_logs
    // (hq:corehq/ex-submodules/casexml/apps/case/xform.py) loads it by id through
    // xform.get_sync_token() and checks no user. In login as the submitter is the web user and
    // the log is the worker's; skipping it made the worker's next sync a 412 (state hash) and
    // echoed the phone's own changes. A log of another domain is still ignored (the emulator
    // keeps domains apart; a phone never holds such a token).
    const syncLog = log && log.domain === input.domain ? log : undefined;

    let closedHosts: string[] = [];
    try {
      inTransaction(this.#db, () => {
        if (edit) {
          // The old version is kept under a new id as XFormDeprecated (orig_id = form id).
          const deprecatedId = hexId();
          cached(
            this.#db,
            `INSERT INTO forms (form_id, domain, state, xmlns, xml, md5, received_on, server_modified_on, edited_on,
               user_id, username, auth_user_id, app_id, build_id, problem, orig_id, deprecated_form_id, submit_ip,
               openrosa_version, last_sync_token, date_header, meta, case_ids, seq)
             SELECT @new_id, domain, 'deprecated', xmlns, xml, md5, received_on,
               @now, edited_on, user_id, username, auth_user_id, app_id, build_id, problem, form_id,
               deprecated_form_id, submit_ip, openrosa_version, last_sync_token, date_header, meta, case_ids, seq
               FROM forms WHERE form_id = @form_id`,
          ).run({ new_id: deprecatedId, now, form_id: edit.form_id });
          cached(this.#db, 'DELETE FROM case_transactions WHERE form_id = ?').run(edit.form_id);
          (meta as Record<string, string>).deprecatedID = deprecatedId;
        }
        const { touched, toRebuild } = this.#applyCases(form, ctx, syncLog?.id ?? null);
        const caseIds = [...touched.keys()];
        this.#storeForm(input, {
          formId,
          state: 'normal',
          form,
          md5,
          now,
          receivedOn,
          meta,
          caseIds,
          ...(edit ? { editedOn: now, deprecatedFormId: (meta as Record<string, string>).deprecatedID } : {}),
        });
        // Rebuilds run once the form row exists, since they replay stored forms.
        if (edit) for (const id of JSON.parse(edit.case_ids) as string[]) toRebuild.add(id);
        if (edit) for (const id of caseIds) toRebuild.add(id);
        for (const id of toRebuild) {
          const rebuilt = this.rebuildCase(id);
          if (rebuilt && touched.has(id)) touched.set(id, rebuilt);
        }
        for (const a of input.attachments) this.#insertAttachment.run(formId, a.name, a.contentType, a.data);
        if (syncLog) this.#updatePhoneLists(syncLog, [...touched.values()]);
        closedHosts = [...touched.values()].filter((c) => c.closed).map((c) => c.caseId);
      });
      if (closedHosts.length > 0 && this.extensionCasesSyncDomains.has(input.domain))
        this.#closeExtensions(input, closedHosts, form.meta.deviceID ?? '');
      return {
        status: 201,
        nature: 'submit_success',
        message: SUCCESS_TEXT,
        formId,
        kind: edit ? 'edit' : 'normal',
      };
    } catch (e) {
      if (!(e instanceof CaseProcessingError)) throw e;
      // Saved as an error form; nothing of its case changes is kept.
      const errorId = edit ? hexId() : formId;
      this.#storeForm(input, {
        formId: errorId,
        state: 'error',
        form,
        md5,
        now,
        receivedOn: received,
        meta,
        caseIds: [],
        problem: e.problem,
      });
      if (!e.known)
        return {
          status: 500,
          nature: 'submit_error',
          message: `There was an error processing the form: ${e.problem}`,
          formId: errorId,
          kind: 'error',
        };
      return v3
        ? { status: 422, nature: 'processing_failure', message: e.problem, formId: errorId, kind: 'error' }
        : { status: 201, nature: 'submit_error', message: e.problem, formId: errorId, kind: 'error' };
    }
  }

  /**
   * Applies the form's case blocks; throws CaseProcessingError (and the surrounding
   * transaction rolls back) on anything HQ rejects.
   */
  #applyCases(
    form: ParsedForm,
    ctx: BlockContext,
    syncLogId: string | null,
  ): { touched: Map<string, StoredCase>; toRebuild: Set<string> } {
    if (form.v1Blocks > 0)
      throw new CaseProcessingError(
        'VersionNotSupported',
        'CaseXML 1.0 blocks are not supported; use CaseXML 2.0',
      );
    for (const b of form.caseBlocks) validateBlock(b);
    const touched = new Map<string, StoredCase>();
    const toRebuild = new Set<string>();
    // The rows as read, so each case writes back only what the form changed.
    const before = new Map<string, CaseRow>();
    for (const [caseId, blocks] of groupBlocks(form.caseBlocks)) {
      const row = this.#cases.getRow(caseId);
      if (row) before.set(caseId, row);
      const existing = row ? rowToCase(row) : undefined;
      if (existing && existing.domain !== ctx.domain)
        throw new CaseProcessingError('IllegalCaseId', `Bad case id: ${caseId} belongs to another project`);
      const c = existing ?? newCase(caseId, ctx);
      let clientDate = '';
      for (const b of blocks) {
        const d = blockDate(b, ctx);
        if (d > clientDate) clientDate = d;
        // An out-of-order transaction (older than what the case has seen) triggers a
        // rebuild from all transactions (`reconcile_transactions`, update_strategy.py).
        if (existing && existing.modifiedOn !== '' && d < existing.modifiedOn) toRebuild.add(caseId);
        applyBlock(c, b, ctx);
      }
      for (const key of ['name', 'caseType', 'ownerId', 'externalId'] as const)
        if (c[key].length > 255)
          throw new CaseProcessingError('CaseValueError', `${key} is longer than 255 characters`);
      touched.set(caseId, c);
      this.#insertTx.run(caseId, ctx.formId, ctx.now, clientDate, syncLogId, c.userId);
    }
    checkIndices(touched.values(), (id) => this.#caseExists.get(id, ctx.domain) !== undefined, touched);
    checkIndexCycles(touched, (id) => this.#indexTargets.all(id) as string[]);
    for (const c of touched.values()) this.#cases.save(c, { before: before.get(c.caseId) });
    this.#applyLedgers(form, ctx);
    return { touched, toRebuild };
  }

  /**
   * `close_extension_cases` (hq:corehq/ex-submodules/casexml/apps/case/xform.py), which HQ
   * runs only with the `EXTENSION_CASES_SYNC_ENABLED` toggle: the open extensions of the
   * closed hosts, down the extension chain (`get_extension_chain` without closed cases),
   * are closed by one system form (`close_cases`: user `system`, xmlns
   * `http://commcarehq.org/case`), submitted with the phone's sync token.
   */
  #closeExtensions(input: SubmissionInput, hostIds: string[], deviceId: string): void {
    const ids = cached(
      this.#db,
      `WITH RECURSIVE chain(id) AS (
           SELECT value FROM json_each(?)
           UNION SELECT ci.case_id FROM case_indices ci JOIN chain ON ci.referenced_id = chain.id
             JOIN cases c ON c.case_id = ci.case_id
             WHERE ci.relationship = 'extension' AND c.closed = 0 AND c.deleted = 0 AND c.domain = ?)
         SELECT id FROM chain WHERE id NOT IN (SELECT value FROM json_each(?))`,
    )
      .pluck()
      .all(JSON.stringify(hostIds), input.domain, JSON.stringify(hostIds)) as string[];
    if (ids.length === 0) return;
    const when = nowIso();
    const formId = uuid4();
    const blocks = ids
      .map(
        (id) =>
          `<case xmlns="${NS.caseV2}" case_id="${escapeXmlAttr(id)}" date_modified="${when}" user_id="${SYSTEM_USER_ID}"><close/></case>`,
      )
      .join('');
    const xml =
      `<?xml version="1.0"?><data xmlns="${SYSTEM_FORM_XMLNS}">${blocks}` +
      `<meta xmlns="${NS.orx}"><deviceID>${escapeXmlText(deviceId)}</deviceID><timeStart>${when}</timeStart>` +
      `<timeEnd>${when}</timeEnd><username>${SYSTEM_USER_ID}</username><userID>${SYSTEM_USER_ID}</userID>` +
      `<instanceID>${formId}</instanceID></meta></data>`;
    this.submit({
      ...input,
      xml,
      attachments: [],
      submitTime: undefined,
      dateHeader: undefined,
      appId: '',
      buildId: '',
    });
  }

  /**
   * Ledger balances and transfers (stock): an entry without a product id is HQ's
   * `MissingProductId`; each (case, section, product) keeps its latest balance.
   */
  #applyLedgers(form: ParsedForm, ctx: BlockContext): void {
    if (form.ledgers.length === 0) return;
    const get = cached(
      this.#db,
      'SELECT balance FROM ledger_values WHERE case_id = ? AND section_id = ? AND entry_id = ?',
    );
    const put = cached(
      this.#db,
      `INSERT INTO ledger_values (domain, case_id, section_id, entry_id, balance, last_modified) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(case_id, section_id, entry_id) DO UPDATE SET balance = excluded.balance,
       last_modified = excluded.last_modified`,
    );
    for (const l of form.ledgers) {
      const date = l.date ? (parsePhoneDateTime(l.date) ?? ctx.receivedOn) : ctx.receivedOn;
      for (const e of l.entries) {
        if (!e.id) throw new CaseProcessingError('MissingProductId', 'Ledger entry without a product id');
        if (!Number.isFinite(e.quantity))
          throw new CaseProcessingError('CaseValueError', `Ledger quantity for ${e.id} is not a number`);
        const current = (id: string) =>
          (get.get(id, l.sectionId, e.id) as { balance: number } | undefined)?.balance ?? 0;
        if (l.kind === 'balance') put.run(ctx.domain, l.entityId, l.sectionId, e.id, e.quantity, date);
        else {
          if (l.src) put.run(ctx.domain, l.src, l.sectionId, e.id, current(l.src) - e.quantity, date);
          if (l.dest) put.run(ctx.domain, l.dest, l.sectionId, e.id, current(l.dest) + e.quantity, date);
        }
      }
    }
  }

  /**
   * Rebuilds a case from its transactions (`_rebuild_case_from_transactions`), replaying
   * forms in HQ's reconciliation order (`_transaction_sort_key_function`): different users
   * by server date; server dates more than 12 h apart by server date; otherwise by client
   * date, then form order. Cases that did not start from a form (seeded data) keep their
   * stored state. Returns the rebuilt case, or undefined when it was not rebuilt.
   */
  rebuildCase(caseId: string): StoredCase | undefined {
    const current = this.#cases.getState(caseId);
    if (!current) return undefined;
    // Checked before loading any form: seeded cases and cases whose only history was a
    // removed edit have no complete history to replay.
    const first = (this.#firstTx.get(caseId) as { d: string | null }).d;
    if (first === null || current.serverOpenedOn < first) return undefined;
    const txs = this.#txsOfCase.all(caseId) as TxRow[];
    if (txs.length === 0) return undefined;
    txs.sort((a, b) => {
      const sa = Date.parse(a.server_date);
      const sb = Date.parse(b.server_date);
      if (a.user_id !== b.user_id || Math.abs(sa - sb) > SIGNIFICANT_MS) return sa - sb || a.seq - b.seq;
      if (a.client_date !== b.client_date) return a.client_date < b.client_date ? -1 : 1;
      return a.seq - b.seq;
    });
    const fresh = newCase(caseId, {
      formId: '',
      formUserId: '',
      receivedOn: current.serverOpenedOn,
      now: current.serverOpenedOn,
      domain: current.domain,
    });
    fresh.modifiedOn = '';
    for (const tx of txs) {
      const form = readForm(parseXmlTree(tx.xml));
      const blocks: ParsedCaseBlock[] = groupBlocks(form.caseBlocks).get(caseId) ?? [];
      const ctx: BlockContext = {
        formId: tx.form_id,
        formUserId: form.meta.userID ?? '',
        // Replayed with the form's own receipt time, as it was first applied.
        receivedOn: tx.received_on,
        now: tx.server_date,
        domain: current.domain,
      };
      for (const b of blocks) applyBlock(fresh, b, ctx);
    }
    fresh.deleted = current.deleted;
    fresh.serverOpenedOn = current.serverOpenedOn;
    fresh.serverModifiedOn = nowIso();
    fresh.indexedOn = fresh.serverModifiedOn;
    this.#cases.save(fresh);
    return fresh;
  }

  /**
   * `SimplifiedSyncLog.update_phone_lists` (PROTOCOL.md 7.6): cases the phone touched join
   * its footprint with their index targets; if one was closed or handed to another owner,
   * the footprint is re-purged with the live-set rules, as the phone's own purge would.
   */
  #updatePhoneLists(head: SyncLogHead, touched: StoredCase[]): void {
    const owners = new Set(head.ownerIds);
    // Membership without reading the whole list per form (sync-logs.ts phoneHas);
    // `added` holds what this form puts on the phone, in the order a rewrite would.
    const stored = phoneHas(this.#db, head);
    const added = new Set<string>();
    const onPhone = (id: string) => stored(id) || added.has(id);
    let needsPurge = false;
    for (const c of touched) {
      const liveOwned = !c.closed && owners.has(c.ownerId);
      if (!liveOwned) {
        if (onPhone(c.caseId) || c.indices.some((i) => onPhone(i.caseId))) needsPurge = true;
        continue;
      }
      if (!onPhone(c.caseId)) added.add(c.caseId);
      for (const i of c.indices) if (!onPhone(i.caseId)) added.add(i.caseId);
    }
    if (!needsPurge && added.size === 0) return;
    if (!needsPurge) {
      // Only additions: appended apart from the stored list (sync-log-adds.ts).
      addToPhoneList(this.#db, head.id, added);
      return;
    }
    // A purge (rare: a case closed or handed over) rewrites the list: read it whole.
    const log = getSyncLog(this.#db, head.id);
    if (!log) return;
    const phone = new Set(log.caseIdsOnPhone);
    for (const id of added) phone.add(id);
    let ids = [...phone];
    if (needsPurge) {
      for (const c of touched) phone.add(c.caseId);
      ids = [...phone];
      const rows = cached(
        this.#db,

        'SELECT case_id, owner_id, closed, indices FROM cases WHERE case_id IN (SELECT value FROM json_each(?))',
      ).all(JSON.stringify(ids)) as { case_id: string; owner_id: string; closed: number; indices: string }[];
      const nodes = new Map<string, GraphNode>();
      for (const r of rows)
        nodes.set(r.case_id, {
          owned: owners.has(r.owner_id),
          closed: r.closed === 1,
          edges: (JSON.parse(r.indices) as { caseId: string; relationship: 'child' | 'extension' }[]).map(
            (i) => ({
              target: i.caseId,
              relationship: i.relationship,
            }),
          ),
        });
      ids = [...computeLiveSet(nodes)];
    }
    saveSyncLog(this.#db, { ...log, caseIdsOnPhone: ids });
  }

  #duplicate(
    input: SubmissionInput,
    original: FormRow,
    form: ParsedForm,
    md5: string,
    now: string,
    received: string,
    v3: boolean,
  ): SubmissionOutcome {
    // XFormDuplicate: a copy under a new id, no case processing (parsers/form.py).
    const dupId = hexId();
    const problem = `Form is a duplicate of another! (${original.form_id})`;
    this.#storeForm(input, {
      formId: dupId,
      state: 'duplicate',
      form,
      md5,
      now,
      receivedOn: received,
      meta: { ...form.meta },
      caseIds: [],
      problem,
      origId: original.form_id,
    });
    return v3
      ? {
          status: 201,
          nature: 'submit_success',
          message: SUCCESS_TEXT,
          formId: original.form_id,
          kind: 'duplicate',
        }
      : {
          status: 201,
          nature: 'submit_error',
          message: problem,
          formId: original.form_id,
          kind: 'duplicate',
        };
  }

  #submissionError(
    input: SubmissionInput,
    now: string,
    received: string,
    problem: string,
  ): SubmissionOutcome {
    const id = uuid4();
    this.#insertForm.run({
      form_id: id,
      domain: input.domain,
      state: 'submission_error',
      xmlns: '',
      xml: input.xml,
      md5: createHash('md5').update(input.xml).digest('hex'),
      received_on: received,
      server_modified_on: now,
      edited_on: null,
      user_id: '',
      username: '',
      auth_user_id: input.authUserId,
      app_id: input.appId,
      build_id: input.buildId,
      problem,
      orig_id: null,
      deprecated_form_id: null,
      submit_ip: input.submitIp,
      openrosa_version: input.openrosaVersion ?? '',
      last_sync_token: input.lastSyncToken ?? null,
      date_header: input.dateHeader === undefined ? null : formatDateHeader(input.dateHeader),
      meta: '{}',
      case_ids: '[]',
      seq: ++this.#seq,
      indexed_on: nextIndexedOn(this.#db),
    });
    return {
      status: 500,
      nature: 'submit_error',
      message: `There was an error processing the form: ${problem}`,
      formId: null,
      kind: 'submission-error',
    };
  }

  #storeForm(
    input: SubmissionInput,
    f: {
      formId: string;
      state: string;
      form: ParsedForm;
      md5: string;
      now: string;
      receivedOn: string;
      meta: Record<string, string | undefined>;
      caseIds: string[];
      problem?: string;
      origId?: string;
      editedOn?: string;
      deprecatedFormId?: string | undefined;
    },
  ): void {
    this.#insertForm.run({
      form_id: f.formId,
      domain: input.domain,
      state: f.state,
      xmlns: f.form.xmlns,
      xml: input.xml,
      md5: f.md5,
      received_on: f.receivedOn,
      server_modified_on: f.now,
      edited_on: f.editedOn ?? null,
      user_id: f.form.meta.userID ?? '',
      username: f.form.meta.username ?? '',
      auth_user_id: input.authUserId,
      app_id: input.appId,
      build_id: input.buildId,
      problem: f.problem ?? '',
      orig_id: f.origId ?? null,
      deprecated_form_id: f.deprecatedFormId ?? null,
      submit_ip: input.submitIp,
      openrosa_version: input.openrosaVersion ?? '',
      last_sync_token: input.lastSyncToken ?? null,
      date_header: input.dateHeader === undefined ? null : formatDateHeader(input.dateHeader),
      meta: JSON.stringify(f.meta),
      case_ids: JSON.stringify(f.caseIds),
      seq: ++this.#seq,
      // Stamped here rather than by the insert trigger (indexed-on.ts), which would write
      // the row and its index entry a second time.
      indexed_on: nextIndexedOn(this.#db),
    });
  }
}
