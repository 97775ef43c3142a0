import { createHash } from 'node:crypto';
import type { CaseIndex } from '../../core/protocol/casexml/case-types.ts';
import type { Db } from '../db/database.ts';
import { nextIndexedOn } from '../db/indexed-on.ts';
import { uuid4 } from '../ids.ts';

/**
 * Seeded cases get the forms HQ's bulk case importer would have made: on HQ every case
 * comes from a form, even an imported one (`submit_case_blocks` with the system xmlns
 * `http://commcarehq.org/case`, in chunks of `CASEBLOCK_CHUNKSIZE` = 100 cases,
 * hq:corehq/apps/case_importer), so a case's `xform_ids` is never empty and the form API
 * lists the import. Each form holds the full create/update/index blocks of its cases, so
 * replaying it (a case rebuild) gives back the seeded state.
 */

export const SYSTEM_FORM_XMLNS = 'http://commcarehq.org/case';
export const IMPORT_CHUNK = 100;
const CASE_NS = 'http://commcarehq.org/case/transaction/v2';

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
// Property names that are not XML names cannot be written as elements; seeds never use them.
const XML_NAME = /^[A-Za-z_][\w.-]*$/;

interface Row {
  case_id: string;
  domain: string;
  case_type: string;
  name: string;
  owner_id: string;
  opened_on: string | null;
  modified_on: string;
  server_opened_on: string;
  user_id: string;
  external_id: string;
  properties: string;
  indices: string;
}

function caseBlock(r: Row): string {
  const props = JSON.parse(r.properties) as Record<string, string>;
  const update = Object.entries(props)
    .filter(([k]) => XML_NAME.test(k))
    .map(([k, v]) => `<${k}>${esc(v)}</${k}>`)
    .join('');
  const ext = r.external_id ? `<external_id>${esc(r.external_id)}</external_id>` : '';
  const indices = JSON.parse(r.indices) as CaseIndex[];
  const index =
    indices.length === 0
      ? ''
      : `<index>${indices
          .map(
            (i) =>
              `<${i.identifier} case_type="${esc(i.caseType)}" relationship="${i.relationship}">${esc(i.caseId)}</${i.identifier}>`,
          )
          .join('')}</index>`;
  return (
    `<case xmlns="${CASE_NS}" case_id="${esc(r.case_id)}" date_modified="${r.opened_on ?? r.modified_on}" user_id="${esc(r.user_id)}">` +
    `<create><case_type>${esc(r.case_type)}</case_type><case_name>${esc(r.name)}</case_name><owner_id>${esc(r.owner_id)}</owner_id></create>` +
    `<update>${update}${ext}</update>${index}</case>`
  );
}

/** Writes the import forms and case transactions of these (already stored) cases. */
export function writeImportForms(db: Db, caseIds: string[]): void {
  const read = db.prepare(
    `SELECT case_id, domain, case_type, name, owner_id, opened_on, modified_on, server_opened_on, user_id, external_id,
     properties, indices FROM cases WHERE case_id = ?`,
  );
  const insertForm = db.prepare(
    `INSERT INTO forms (form_id, domain, state, xmlns, xml, md5, received_on, server_modified_on, user_id, username,
     meta, case_ids, seq, indexed_on) VALUES (?, ?, 'normal', ?, ?, ?, ?, ?, ?, 'system', ?, ?, 0, ?)`,
  );
  const insertTx = db.prepare(
    'INSERT INTO case_transactions (case_id, form_id, server_date, client_date, sync_log_id, user_id) VALUES (?, ?, ?, ?, NULL, ?)',
  );
  for (let i = 0; i < caseIds.length; i += IMPORT_CHUNK) {
    const rows = caseIds
      .slice(i, i + IMPORT_CHUNK)
      .map((id) => read.get(id) as Row | undefined)
      .filter((r): r is Row => r !== undefined);
    const first = rows[0];
    if (!first) continue;
    const formId = uuid4();
    // The cases' own server dates, so a rebuild (which replays from the first transaction) keeps them.
    const server = first.server_opened_on;
    const meta = {
      deviceID: 'fieldsim.seed',
      username: 'system',
      userID: first.owner_id,
      instanceID: formId,
    };
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?><data xmlns="${SYSTEM_FORM_XMLNS}">${rows.map(caseBlock).join('')}` +
      `<n0:meta xmlns:n0="http://openrosa.org/jr/xforms"><n0:deviceID>fieldsim.seed</n0:deviceID>` +
      `<n0:timeStart>${server}</n0:timeStart><n0:timeEnd>${server}</n0:timeEnd><n0:username>system</n0:username>` +
      `<n0:userID>${esc(first.owner_id)}</n0:userID><n0:instanceID>${formId}</n0:instanceID></n0:meta></data>`;
    insertForm.run(
      formId,
      first.domain,
      SYSTEM_FORM_XMLNS,
      xml,
      createHash('md5').update(xml).digest('hex'),
      server,
      server,
      first.owner_id,
      JSON.stringify(meta),
      JSON.stringify(rows.map((r) => r.case_id)),
      nextIndexedOn(db),
    );
    for (const r of rows)
      insertTx.run(r.case_id, formId, r.server_opened_on, r.opened_on ?? r.modified_on, r.user_id);
  }
}
