import { createHash } from 'node:crypto';
import { parseXmlTree } from '../casexml/xml-tree.ts';
import type { Db } from '../db/database.ts';
import { xmlToJson } from '../db/serialize-api.ts';

/**
 * The flat tables behind the Export API and the OData feeds: one row per form of an xmlns
 * or per case of a type, one column per question or property, as HQ's form and case
 * exports lay them out (hq:corehq/apps/export: form columns are question paths under
 * `form.`, case columns the case's fixed fields then its properties). HQ builds them from
 * saved export configurations; the emulator derives one configuration per xmlns and per
 * case type, with the columns the stored documents actually have.
 */

export type ExportKind = 'forms' | 'cases';

export interface ExportConfig {
  /** `[\w-]+`, as HQ's config ids: `form-<hash of xmlns>` or `case-<case type>`. */
  id: string;
  kind: ExportKind;
  /** The form xmlns or the case type. */
  tag: string;
  label: string;
}

export interface ExportRow {
  /** Cursor of the row (its document's `indexed_on`), for paging and incremental exports. */
  indexedOn: string;
  values: Record<string, string | null>;
}

export interface ExportPage {
  headers: string[];
  rows: ExportRow[];
  /** Whether rows after the last one exist. */
  more: boolean;
}

const formConfigId = (xmlns: string) => `form-${createHash('sha1').update(xmlns).digest('hex').slice(0, 16)}`;
const caseConfigId = (type: string) => `case-${type.replace(/[^\w-]/g, '_')}`;

/** The export configurations of a domain: one per form xmlns, one per case type. */
export function exportConfigs(db: Db, domain: string, kind: ExportKind): ExportConfig[] {
  if (kind === 'forms') {
    const rows = db
      .prepare("SELECT DISTINCT xmlns FROM forms WHERE domain = ? AND state = 'normal' ORDER BY xmlns")
      .pluck()
      .all(domain) as string[];
    return rows.map((x) => ({ id: formConfigId(x), kind, tag: x, label: x }));
  }
  const types = db
    .prepare('SELECT DISTINCT case_type FROM cases WHERE domain = ? AND deleted = 0 ORDER BY case_type')
    .pluck()
    .all(domain) as string[];
  return types.map((t) => ({ id: caseConfigId(t), kind, tag: t, label: t }));
}

/** The configuration with this id, or one named by its xmlns / case type. */
export function findConfig(
  db: Db,
  domain: string,
  kind: ExportKind,
  idOrTag: string,
): ExportConfig | undefined {
  return exportConfigs(db, domain, kind).find((c) => c.id === idOrTag || c.tag === idOrTag);
}

/** Leaves of an `xml2json` object as `a.b.c` paths; repeats as JSON text. */
function flatten(prefix: string, value: unknown, out: Record<string, string | null>): void {
  if (value === null || value === undefined) {
    out[prefix] = null;
    return;
  }
  if (typeof value === 'string') {
    out[prefix] = value;
    return;
  }
  if (Array.isArray(value)) {
    out[prefix] = JSON.stringify(value);
    return;
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => !k.startsWith('@') && k !== '#type');
  if (keys.length === 1 && keys[0] === '#text') {
    out[prefix] = String(o['#text']);
    return;
  }
  for (const k of keys) flatten(k === '#text' ? prefix : `${prefix}.${k}`, o[k], out);
}

const FORM_FIXED = ['formid', 'received_on', 'form.meta.userID', 'form.meta.username'];
const CASE_FIXED = [
  'caseid',
  'case_type',
  'case_name',
  'owner_id',
  'closed',
  'date_opened',
  'opened_by',
  'last_modified_date',
  'server_last_modified_date',
  'closed_on',
  'external_id',
];

interface FormRow {
  form_id: string;
  xml: string;
  received_on: string;
  indexed_on: string;
}
interface CaseRow {
  case_id: string;
  case_type: string;
  name: string;
  owner_id: string;
  closed: number;
  opened_on: string | null;
  opened_by: string;
  modified_on: string;
  server_modified_on: string;
  closed_on: string | null;
  external_id: string;
  properties: string;
  indexed_on: string;
}

function formValues(r: FormRow): Record<string, string | null> {
  const out: Record<string, string | null> = { formid: r.form_id, received_on: r.received_on };
  flatten('form', xmlToJson(parseXmlTree(r.xml)), out);
  return out;
}

function caseValues(r: CaseRow): Record<string, string | null> {
  return {
    caseid: r.case_id,
    case_type: r.case_type,
    case_name: r.name,
    owner_id: r.owner_id,
    closed: r.closed === 1 ? 'True' : 'False',
    date_opened: r.opened_on,
    opened_by: r.opened_by,
    last_modified_date: r.modified_on,
    server_last_modified_date: r.server_modified_on,
    closed_on: r.closed_on,
    external_id: r.external_id,
    ...(JSON.parse(r.properties) as Record<string, string>),
  };
}

/**
 * The configuration's columns: the fixed ones, then every other column the documents
 * have, in the order first seen (forms) or sorted (case properties).
 */
export function exportHeaders(db: Db, domain: string, config: ExportConfig): string[] {
  const seen = new Set<string>();
  if (config.kind === 'forms') {
    for (const h of FORM_FIXED) seen.add(h);
    // The newest forms decide the columns, as an export's schema follows the latest build.
    const rows = db
      .prepare(
        "SELECT form_id, xml, received_on, indexed_on FROM forms WHERE domain = ? AND xmlns = ? AND state = 'normal' ORDER BY indexed_on DESC LIMIT 200",
      )
      .all(domain, config.tag) as FormRow[];
    for (const r of rows.reverse()) for (const k of Object.keys(formValues(r))) seen.add(k);
    return [...seen];
  }
  const props = db
    .prepare(
      `SELECT DISTINCT j.key FROM cases, json_each(cases.properties) AS j
       WHERE cases.domain = ? AND cases.case_type = ? AND cases.deleted = 0 ORDER BY j.key`,
    )
    .pluck()
    .all(domain, config.tag) as string[];
  return [...new Set([...CASE_FIXED, ...props])];
}

/** Rows after `after` (an `indexed_on`, exclusive), oldest index first, at most `limit`. */
export function exportPage(
  db: Db,
  domain: string,
  config: ExportConfig,
  opts: { after?: string | undefined; limit: number; skip?: number; headers?: string[] },
): ExportPage {
  const headers = opts.headers ?? exportHeaders(db, domain, config);
  const after = opts.after ?? '';
  const args = [domain, config.tag, after, opts.limit + 1, opts.skip ?? 0];
  const raw =
    config.kind === 'forms'
      ? (
          db
            .prepare(
              `SELECT form_id, xml, received_on, indexed_on FROM forms WHERE domain = ? AND xmlns = ? AND state = 'normal'
               AND indexed_on > ? ORDER BY indexed_on LIMIT ? OFFSET ?`,
            )
            .all(...args) as FormRow[]
        ).map((r) => ({ indexedOn: r.indexed_on, all: formValues(r) }))
      : (
          db
            .prepare(
              `SELECT case_id, case_type, name, owner_id, closed, opened_on, opened_by, modified_on, server_modified_on,
               closed_on, external_id, properties, indexed_on FROM cases WHERE domain = ? AND case_type = ? AND deleted = 0
               AND indexed_on > ? ORDER BY indexed_on LIMIT ? OFFSET ?`,
            )
            .all(...args) as CaseRow[]
        ).map((r) => ({ indexedOn: r.indexed_on, all: caseValues(r) }));
  const more = raw.length > opts.limit;
  const rows = raw.slice(0, opts.limit).map((r) => ({
    indexedOn: r.indexedOn,
    values: Object.fromEntries(headers.map((h) => [h, r.all[h] ?? null])),
  }));
  return { headers, rows, more };
}
