import { microsToIso } from '../db/indexed-on.ts';
import { ApiInputError } from './api-helpers.ts';

/**
 * Filters and ordering of the form and case lists, following how HQ turns query
 * parameters into an Elasticsearch query (`es_search_by_params` / `query_param_consumers`,
 * hq:corehq/apps/api/es.py):
 *
 * - reserved: `limit`, `offset`, `order_by`, `q`, `_search`, `format`, `username`,
 *   `api_key`, anything ending in `__full`, and each resource's own extras;
 * - consumed: `xmlns` (exact), `case_name` / `case_type` (lower-cased: analyzed fields),
 *   `type.exact`, `name.exact`, `external_id.exact`, `contact_phone_number`, and the
 *   `_start`/`_end` ranges of `received_on`, `server_modified_on`, `date_modified`
 *   (the doc's `modified_on`), `server_date_modified` (`server_modified_on`), `indexed_on`;
 * - every other parameter: a term filter on the document field of that name with the value
 *   lower-cased (here: the whole value, case-insensitively). A field the document does not have matches nothing, so an unknown
 *   parameter narrows the list to nothing instead of being ignored.
 *
 * `_search` takes the JSON filter commcare-export sends (and the rest of ES's basic filter
 * language: and/or/not/term/terms/range/missing/exists/match_all).
 */

/** A document field as a column: SQL expression and how its datetimes are stored. */
interface Field {
  sql: string;
  /** Datetime columns: 'ms' = 24-char ISO (`.123Z`), 'us' = 27-char (`.123456Z`). */
  date?: 'ms' | 'us';
  /** A boolean column stored as 0/1. */
  bool?: boolean;
}

export interface ListSpec {
  /** ES field name -> column. */
  fields: Record<string, Field>;
  /** `order_by` keys -> ES field names. */
  orderKeys: Record<string, string>;
  /** Parameters the resource handles itself (not filters here). */
  reserved: string[];
}

const NOTHING = '0';

export const CASE_LIST: ListSpec = {
  fields: {
    _id: { sql: 'case_id' },
    case_id: { sql: 'case_id' },
    domain: { sql: 'domain' },
    type: { sql: 'case_type' },
    name: { sql: 'name' },
    owner_id: { sql: 'owner_id' },
    user_id: { sql: 'user_id' },
    opened_by: { sql: 'opened_by' },
    closed_by: { sql: 'closed_by' },
    external_id: { sql: 'external_id' },
    location_id: { sql: 'location_id' },
    closed: { sql: 'closed', bool: true },
    doc_type: { sql: "'commcarecase'" },
    modified_on: { sql: 'modified_on', date: 'ms' },
    server_modified_on: { sql: 'server_modified_on', date: 'ms' },
    opened_on: { sql: 'opened_on', date: 'ms' },
    closed_on: { sql: 'closed_on', date: 'ms' },
    indexed_on: { sql: 'indexed_on', date: 'us' },
    contact_phone_number: { sql: "json_extract(properties, '$.contact_phone_number')" },
  },
  orderKeys: {
    server_date_modified: 'server_modified_on',
    server_modified_on: 'server_modified_on',
    date_modified: 'modified_on',
    modified_on: 'modified_on',
    indexed_on: 'indexed_on',
    opened_on: 'opened_on',
    closed_on: 'closed_on',
  },
  reserved: [],
};

export const FORM_LIST: ListSpec = {
  fields: {
    _id: { sql: 'form_id' },
    domain: { sql: 'domain' },
    xmlns: { sql: 'xmlns' },
    app_id: { sql: 'app_id' },
    build_id: { sql: 'build_id' },
    user_id: { sql: 'user_id' },
    'form.meta.userID': { sql: 'user_id' },
    'form.meta.username': { sql: 'username' },
    'form.meta.deviceID': { sql: "json_extract(meta, '$.deviceID')" },
    'form.meta.instanceID': { sql: 'form_id' },
    'form.meta.appVersion': { sql: "json_extract(meta, '$.appVersion')" },
    doc_type: { sql: "'xforminstance'" },
    received_on: { sql: 'received_on', date: 'ms' },
    server_modified_on: { sql: 'server_modified_on', date: 'ms' },
    indexed_on: { sql: 'indexed_on', date: 'us' },
  },
  orderKeys: {
    received_on: 'received_on',
    server_modified_on: 'server_modified_on',
    indexed_on: 'indexed_on',
  },
  // `case_id` is the emulator's (forms that touched a case); `include_archived` is HQ's.
  reserved: ['case_id', 'include_archived'],
};

const RESERVED = new Set(['limit', 'offset', 'order_by', 'q', '_search', 'format', 'username', 'api_key']);

/** Exact terms HQ keeps case-sensitive (`TermParam` without `analyzed`). */
const EXACT_TERMS: Record<string, string> = {
  'type.exact': 'type',
  'name.exact': 'name',
  'external_id.exact': 'external_id',
  // Not in HQ's list (it would lower-case the value), but xmlns is stored as sent and the
  // `.exact` sub-field is the not-analyzed one commcare-export filters on.
  'xmlns.exact': 'xmlns',
  contact_phone_number: 'contact_phone_number',
};
/** Terms on analyzed fields: matched case-insensitively. */
const ANALYZED_TERMS: Record<string, string> = { case_name: 'name', case_type: 'type' };
/** `<param>_start` / `<param>_end` ranges and the field they apply to. */
const RANGES: Record<string, string> = {
  received_on: 'received_on',
  server_modified_on: 'server_modified_on',
  date_modified: 'modified_on',
  server_date_modified: 'server_modified_on',
  indexed_on: 'indexed_on',
};

const DATE_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]00:?00)?$/;
/**
 * What a `*_start`/`*_end` query parameter may look like: HQ's `validate_date` formats,
 * plus `YYYY-MM-DDTHH:MMZ`, which HQ's OpenAPI pattern also allows
 * (hq:docs/api/openapi/paths/form.yaml). An offset, or a `Z` after the seconds, is a 400.
 */
const PARAM_DATE_RE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?|T\d{2}:\d{2}Z)?$/;

/**
 * A filter datetime as microseconds: the formats HQ's `validate_date` accepts (`%Y-%m-%d`,
 * `%Y-%m-%dT%H:%M:%S`, `%Y-%m-%dT%H:%M:%S.%f`, naive = UTC), plus what ES itself parses
 * in `_search` ranges (a `Z`). A date alone is the start of that day, or its last
 * microsecond for an upper bound.
 */
export function filterMicros(value: string, upper: boolean): number {
  const m = DATE_RE.exec(value.trim());
  if (!m) throw new ApiInputError(`Bad query parameter: Date not in the correct format ('${value}')`);
  const [, day, hm, sec, frac] = m;
  const base = Date.parse(`${day}T${hm ?? '00:00'}:${sec ?? '00'}Z`);
  if (Number.isNaN(base)) throw new ApiInputError(`Bad query parameter: invalid date '${value}'`);
  const us = base * 1000 + Number((frac ?? '').padEnd(6, '0'));
  return hm === undefined && upper ? us + 86_400_000_000 - 1 : us;
}

/** A microsecond time as the stored text of a column of that precision. */
function stored(us: number, precision: 'ms' | 'us'): string {
  const iso = microsToIso(us);
  return precision === 'us' ? iso : `${iso.slice(0, 23)}Z`;
}

export interface ListQuery {
  where: string[];
  args: unknown[];
}

function term(q: ListQuery, f: Field | undefined, value: string, lower: boolean): void {
  if (!f) {
    q.where.push(NOTHING);
    return;
  }
  if (f.bool) {
    const v = value.toLowerCase();
    if (v === 'true' || v === 'false') {
      q.where.push(`${f.sql} = ?`);
      q.args.push(v === 'true' ? 1 : 0);
    } else q.where.push(NOTHING);
    return;
  }
  q.where.push(lower ? `lower(${f.sql}) = ?` : `${f.sql} = ?`);
  q.args.push(lower ? value.toLowerCase() : value);
}

function range(
  q: ListQuery,
  f: Field | undefined,
  bounds: { gte?: string; gt?: string; lte?: string; lt?: string },
) {
  if (!f?.date) {
    // A range on a field the document lacks (or that is no date) matches nothing.
    q.where.push(NOTHING);
    return;
  }
  const ops: [keyof typeof bounds, string, boolean][] = [
    ['gte', '>=', false],
    ['gt', '>', false],
    ['lte', '<=', true],
    ['lt', '<', true],
  ];
  for (const [k, op, upper] of ops) {
    const v = bounds[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new ApiInputError(`Range bound ${k} must be a string`);
    q.where.push(`${f.sql} ${op} ?`);
    q.args.push(stored(filterMicros(v, upper), f.date));
  }
}

/** Adds the WHERE clauses for `params` (last value of each name, as Django's QueryDict). */
export function applyListFilters(spec: ListSpec, params: URLSearchParams, q: ListQuery): void {
  const raw = new Map<string, string>();
  for (const [k, v] of params) raw.set(k, v);
  const search = raw.get('_search');
  if (search !== undefined && search !== '') applySearch(spec, search, q);
  for (const [name, value] of raw) {
    if (RESERVED.has(name) || name.endsWith('__full') || spec.reserved.includes(name)) continue;
    // HQ's consumers skip empty values (`if value:` / `if start or end:`).
    if (value === '') continue;
    const exact = EXACT_TERMS[name];
    if (exact !== undefined) {
      term(q, spec.fields[exact], value, false);
      continue;
    }
    const analyzed = ANALYZED_TERMS[name];
    if (analyzed !== undefined) {
      term(q, spec.fields[analyzed], value, true);
      continue;
    }
    const rangeMatch = /^(.*)_(start|end)$/.exec(name);
    const rangeField = rangeMatch ? RANGES[rangeMatch[1]!] : undefined;
    if (rangeMatch && rangeField !== undefined) {
      if (!PARAM_DATE_RE.test(value))
        throw new ApiInputError(`Bad query parameter: Date not in the correct format ('${value}')`);
      range(q, spec.fields[rangeField], rangeMatch[2] === 'start' ? { gte: value } : { lte: value });
      continue;
    }
    if (name === 'xmlns') {
      term(q, spec.fields.xmlns, value, false);
      continue;
    }
    // Unconsumed: `filters.term(param, value.lower())`. HQ's string fields are analyzed
    // (lower-cased tokens), so the emulator matches the whole value case-insensitively.
    term(q, spec.fields[name], value, true);
  }
}

/** `ORDER BY` for `order_by` (`-` for descending), ties broken by insertion order. */
export function listOrder(spec: ListSpec, value: string | undefined, fallback: string): string {
  if (!value) return fallback;
  const desc = value.startsWith('-');
  const field = spec.orderKeys[desc ? value.slice(1) : value];
  const col = field === undefined ? undefined : spec.fields[field];
  if (!col) throw new ApiInputError(`No matching field for order_by '${value}'`);
  const dir = desc ? 'DESC' : 'ASC';
  return `${col.sql} ${dir}, rowid ${dir}`;
}

type Json = unknown;

function applySearch(spec: ListSpec, text: string, q: ListQuery): void {
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiInputError('_search is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiInputError('_search must be a JSON object');
  const { filter, query } = body as { filter?: Json; query?: Json };
  if (query !== undefined) throw new ApiInputError('_search: only "filter" is supported');
  if (filter !== undefined) {
    const sub: ListQuery = { where: [], args: [] };
    esFilter(spec, filter, sub);
    q.where.push(...sub.where);
    q.args.push(...sub.args);
  }
}

const isObj = (x: Json): x is Record<string, Json> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** One ES filter as one SQL condition (pushed onto `q.where`). */
function esFilter(spec: ListSpec, f: Json, q: ListQuery): void {
  if (!isObj(f)) throw new ApiInputError('_search: a filter must be an object');
  const keys = Object.keys(f);
  if (keys.length !== 1)
    throw new ApiInputError(`_search: a filter must have one key, got ${keys.join(', ')}`);
  const kind = keys[0]!;
  const arg = f[kind];
  const group = (items: Json, joiner: string, empty: string) => {
    const list = Array.isArray(items)
      ? items
      : isObj(items) && Array.isArray(items.filters)
        ? items.filters
        : null;
    if (!list) throw new ApiInputError(`_search: "${kind}" takes a list of filters`);
    const sub: ListQuery = { where: [], args: [] };
    for (const item of list) esFilter(spec, item, sub);
    q.where.push(sub.where.length === 0 ? empty : `(${sub.where.map((w) => `(${w})`).join(joiner)})`);
    q.args.push(...sub.args);
  };
  const field = (name: string): Field | undefined => spec.fields[name.replace(/\.exact$/, '')];
  switch (kind) {
    case 'and':
      group(arg, ' AND ', '1');
      return;
    case 'or':
      group(arg, ' OR ', NOTHING);
      return;
    case 'not': {
      const inner = isObj(arg) && 'filter' in arg ? arg.filter : arg;
      const sub: ListQuery = { where: [], args: [] };
      esFilter(spec, inner, sub);
      q.where.push(`NOT (${sub.where.join(' AND ')})`);
      q.args.push(...sub.args);
      return;
    }
    case 'match_all':
      q.where.push('1');
      return;
    case 'term':
    case 'terms': {
      if (!isObj(arg)) throw new ApiInputError(`_search: bad "${kind}" filter`);
      const [[name, value] = ['', undefined]] = Object.entries(arg);
      const values = kind === 'terms' ? value : [value];
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' && typeof v !== 'boolean'))
        throw new ApiInputError(`_search: bad "${kind}" filter on ${name}`);
      const sub: ListQuery = { where: [], args: [] };
      for (const v of values) term(sub, field(name), String(v), false);
      q.where.push(sub.where.length === 0 ? NOTHING : `(${sub.where.join(' OR ')})`);
      q.args.push(...sub.args);
      return;
    }
    case 'range': {
      if (!isObj(arg)) throw new ApiInputError('_search: bad "range" filter');
      for (const [name, bounds] of Object.entries(arg)) {
        if (!isObj(bounds)) throw new ApiInputError(`_search: bad range on ${name}`);
        range(q, field(name), bounds as Record<string, string>);
      }
      return;
    }
    case 'missing':
    case 'exists': {
      const name = isObj(arg) ? arg.field : undefined;
      if (typeof name !== 'string') throw new ApiInputError(`_search: "${kind}" needs a field`);
      const col = field(name);
      // A field the document lacks is always missing.
      const missing = col ? `(${col.sql} IS NULL OR ${col.sql} = '')` : '1';
      q.where.push(kind === 'missing' ? missing : `NOT ${missing}`);
      return;
    }
    default:
      throw new ApiInputError(`_search: unsupported filter "${kind}"`);
  }
}
