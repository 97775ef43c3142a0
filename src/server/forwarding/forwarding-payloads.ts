import { writeCaseBlock } from '../../core/protocol/casexml/case-block-writer.ts';
import { formatHqDateTime } from '../casexml/dates.ts';
import type { CaseRepo } from '../db/cases.ts';
import { cached, type Db } from '../db/database.ts';
import { caseJson } from '../db/serialize-api.ts';
import { restoreCaseBlock } from '../restore/generate.ts';
import type { Forwarder } from './forwarder-store.ts';
import type { RepeatRecord } from './repeat-records.ts';

export interface Payload {
  body: string;
  contentType: string;
  /** Query parameters added to the forwarder's URL. */
  query: Record<string, string>;
}

interface FormRow {
  xml: string;
  app_id: string;
  received_on: string;
  case_ids: string;
}

/**
 * What one record sends, read when it is sent (HQ builds payloads at send time too:
 * `Repeater.get_payload`, so a case forwarded late carries its latest state). Returns a
 * reason string when the source is gone (the record is then cancelled).
 *
 * - FormRepeater: the form XML (`FormRepeaterXMLPayloadGenerator`), `?app_id=` when
 *   `include_app_id_param` (HQ's default).
 * - ShortFormRepeater: `{"form_id", "received_on", "case_ids"}`
 *   (`ShortFormRepeaterJsonPayloadGenerator`).
 * - CaseRepeater: the case as a CaseXML 2.0 block with create/update/index/close
 *   (`case.to_xml(V2)`), or the case API's JSON with `format: case_json`.
 * - AppStructureRepeater: the application id as plain text (`AppStructureGenerator`).
 */
export function buildPayload(db: Db, cases: CaseRepo, f: Forwarder, r: RepeatRecord): Payload | string {
  if (r.payloadKind === 'app')
    return { body: r.payloadId, contentType: 'text/plain; charset=utf-8', query: {} };
  if (r.payloadKind === 'case') {
    const c = cases.getState(r.payloadId);
    if (!c) return `case ${r.payloadId} no longer exists`;
    if (f.format === 'case_json')
      return { body: JSON.stringify(caseJson(c)), contentType: 'application/json', query: {} };
    return {
      body: writeCaseBlock(restoreCaseBlock(c, true)),
      contentType: 'text/xml; charset=utf-8',
      query: {},
    };
  }
  const form = cached(db, 'SELECT xml, app_id, received_on, case_ids FROM forms WHERE form_id = ?').get(
    r.payloadId,
  ) as FormRow | undefined;
  if (!form) return `form ${r.payloadId} no longer exists`;
  if (f.type === 'ShortFormRepeater')
    return {
      body: JSON.stringify({
        form_id: r.payloadId,
        received_on: formatHqDateTime(form.received_on),
        case_ids: JSON.parse(form.case_ids) as string[],
      }),
      contentType: 'application/json',
      query: {},
    };
  return {
    body: form.xml,
    contentType: 'application/xml',
    query: f.includeAppIdParam && form.app_id !== '' ? { app_id: form.app_id } : {},
  };
}
