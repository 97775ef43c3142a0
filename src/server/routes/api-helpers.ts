import { parsePhoneDateTime } from '../casexml/dates.ts';
import type { Ctx } from '../context.ts';

/** tastypie paging (PROTOCOL.md 9.1): limit default 20, at most `max`; offset from 0. */
export interface Page {
  limit: number;
  offset: number;
}

export class ApiInputError extends Error {
  override readonly name = 'ApiInputError';
}

export function readPage(c: Ctx, max = 5000): Page {
  const rawLimit = c.req.query('limit');
  const rawOffset = c.req.query('offset');
  const limit = rawLimit === undefined || rawLimit === '' ? 20 : Number(rawLimit);
  const offset = rawOffset === undefined || rawOffset === '' ? 0 : Number(rawOffset);
  if (!Number.isInteger(limit) || limit < 0) throw new ApiInputError(`Invalid limit '${rawLimit}' provided.`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new ApiInputError(`Invalid offset '${rawOffset}' provided.`);
  // tastypie treats limit=0 as "the maximum".
  return { limit: limit === 0 ? max : Math.min(limit, max), offset };
}

function pageUrl(c: Ctx, limit: number, offset: number): string {
  const url = new URL(c.req.url);
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('offset', String(offset));
  return `${url.pathname}?${url.searchParams.toString()}`;
}

/** The `meta`/`objects` envelope with relative `next`/`previous` links. */
export function paginated(c: Ctx, page: Page, total: number, objects: unknown[]): Response {
  const next = page.offset + page.limit < total ? pageUrl(c, page.limit, page.offset + page.limit) : null;
  const previous = page.offset > 0 ? pageUrl(c, page.limit, Math.max(0, page.offset - page.limit)) : null;
  return c.json({
    meta: { limit: page.limit, offset: page.offset, next, previous, total_count: total },
    objects,
  });
}

/**
 * Date filters: a date alone means the start (or, for `_end`, the end) of that UTC day;
 * naive times are UTC, as HQ stores them. The formats HQ's `validate_date` takes for `*_start`/`*_end` (hq:corehq/apps/api/es.py:
 * `%Y-%m-%d`, `%Y-%m-%dT%H:%M:%S`, `%Y-%m-%dT%H:%M:%S.%f`), plus `YYYY-MM-DDTHH:MMZ`, which
 * the OpenAPI pattern also allows (hq:docs/api/openapi/paths/form.yaml). Anything else, an
 * offset such as `+00:00` or a `Z` after the seconds among them, is a 400 there.
 */
const HQ_DATE_FILTER_RE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?|T\d{2}:\d{2}Z)?$/;
export function dateFilter(value: string | undefined, end: boolean): string | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value;
  if (!HQ_DATE_FILTER_RE.test(v)) throw new ApiInputError(`Invalid date '${value}'`);
  const iso = parsePhoneDateTime(
    /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T${end ? '23:59:59.999' : '00:00:00'}Z` : v,
  );
  if (iso === null) throw new ApiInputError(`Invalid date '${value}'`);
  return iso;
}

export function bool(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['true', '1', 'yes'].includes(value.toLowerCase());
}
