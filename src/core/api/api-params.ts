import { FieldsimError } from '../errors/fieldsim-error.ts';

/**
 * Query parameters of the v0.5 list endpoints, with HQ's names (PROTOCOL.md 9.2-9.4;
 * hq:docs/api/openapi/paths/{case-v1,form,user,web-user}.yaml), and how they are written
 * into a query string.
 */

/** A datetime filter: a `Date`, or a string sent unchanged (`2026-01-31`, `2026-01-31T10:00:00`). */
export type DateFilter = Date | string;

/** `limit` (default 20 on HQ; the server caps it: 5000 for cases, 1000 elsewhere) and `offset`. */
export interface PageParams {
  limit?: number;
  offset?: number;
}

export interface UserListParams extends PageParams {
  /** Members of this group id only (an unknown group is a 400). */
  group?: string;
  /** List archived (deactivated) workers instead of active ones. */
  archived?: boolean;
  /** Add the `extras` activity counts (slower on HQ). */
  extras?: boolean;
}

export interface WebUserListParams extends PageParams {
  /** One username, exact match. */
  web_username?: string;
}

export type GroupListParams = PageParams;

/** Sort keys of the case list; `-` prefix for descending. Default `server_date_modified`. */
export type CaseOrderBy =
  | 'server_date_modified'
  | 'date_modified'
  | 'indexed_on'
  | '-server_date_modified'
  | '-date_modified'
  | '-indexed_on';

export interface CaseListParams extends PageParams {
  owner_id?: string;
  /** Last modifier. */
  user_id?: string;
  /** Case type. */
  type?: string;
  /** `true` closed only, `false` open only; omit for both. */
  closed?: boolean;
  date_modified_start?: DateFilter;
  date_modified_end?: DateFilter;
  server_date_modified_start?: DateFilter;
  server_date_modified_end?: DateFilter;
  /** HQ recommends paging long result sets on `indexed_on`. */
  indexed_on_start?: DateFilter;
  indexed_on_end?: DateFilter;
  external_id?: string;
  /**
   * A term on HQ's analyzed `name` field (the emulator: the whole name, case-insensitive);
   * `name.exact` is the exact match.
   */
  name?: string;
  /** Case name, exact (case-sensitive). */
  'name.exact'?: string;
  /** Case name, case-insensitive (HQ's `case_name` consumer). */
  case_name?: string;
  /** Case type, exact (case-sensitive). */
  'type.exact'?: string;
  /** Case type, case-insensitive (HQ's `case_type` consumer). */
  case_type?: string;
  'external_id.exact'?: string;
  order_by?: CaseOrderBy;
  child_cases__full?: boolean;
  parent_cases__full?: boolean;
  xforms_by_name__full?: boolean;
  xforms_by_xmlns__full?: boolean;
}

export type FormOrderBy =
  | 'received_on'
  | 'server_modified_on'
  | 'indexed_on'
  | '-received_on'
  | '-server_modified_on'
  | '-indexed_on';

export interface FormListParams extends PageParams {
  xmlns?: string;
  /** The same exact xmlns filter, as commcare-export's queries name it. */
  'xmlns.exact'?: string;
  server_modified_on_start?: DateFilter;
  server_modified_on_end?: DateFilter;
  /** The submitting user (`form.meta.userID`). */
  user_id?: string;
  app_id?: string;
  received_on_start?: DateFilter;
  received_on_end?: DateFilter;
  indexed_on_start?: DateFilter;
  indexed_on_end?: DateFilter;
  /** Forms that touched this case. */
  case_id?: string;
  /**
   * The app version in the form's meta. HQ matches a parameter only against a field of the
   * form document, so this is `form.meta.appVersion` (a bare `appVersion` matches nothing).
   */
  'form.meta.appVersion'?: string;
  include_archived?: boolean;
  /** Default `-received_on` (newest first). */
  order_by?: FormOrderBy;
  cases__full?: boolean;
}

export interface CaseGetOptions {
  childCasesFull?: boolean;
  parentCasesFull?: boolean;
  xformsByNameFull?: boolean;
  xformsByXmlnsFull?: boolean;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A `Date` as HQ's date filters take it: naive UTC `YYYY-MM-DDTHH:MM:SS`, with
 * `.ffffff` when the time has milliseconds. HQ's `validate_date` accepts only naive
 * formats; an offset such as `+00:00` is a 400 (hq:docs/api/openapi/paths/form.yaml,
 * `indexed_on_start`, citing corehq/apps/api/es.py). HQ stores these times in UTC.
 */
export function formatHqDateFilter(d: Date): string {
  if (Number.isNaN(d.getTime()))
    throw new FieldsimError('invalid-argument', 'Invalid Date in an HQ API date filter');
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(
    d.getUTCHours(),
  )}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? base : `${base}.${pad(ms, 3)}000`;
}

/**
 * Reads an HQ date string (naive, which HQ means as UTC, or with `Z`/offset) as a
 * `Date`; `null` for null or unreadable input.
 */
export function parseHqDate(value: string | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const v = value.trim();
  const withZone = /([zZ]|[+-]\d{2}:?\d{2})$/.test(v) ? v : /T/.test(v) ? `${v}Z` : `${v}T00:00:00Z`;
  // JS Date parses at most milliseconds; HQ sends microseconds.
  const t = Date.parse(withZone.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? null : new Date(t);
}

/** Writes defined parameters into a query: booleans as `true`/`false`, Dates as HQ takes them. */
export function toQuery(params: object | undefined): URLSearchParams {
  const q = new URLSearchParams();
  if (!params) return q;
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (v instanceof Date) q.set(k, formatHqDateFilter(v));
    else if (typeof v === 'boolean') q.set(k, v ? 'true' : 'false');
    else if (typeof v === 'number' || typeof v === 'string') q.set(k, String(v));
    else throw new FieldsimError('invalid-argument', `Unsupported value for query parameter ${k}`);
  }
  return q;
}
