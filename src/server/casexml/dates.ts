/**
 * Date handling for case processing. HQ keeps UTC datetimes and writes them back in
 * restores with `json_format_datetime` (`2010-06-29T13:42:50.000000Z`, PROTOCOL.md 3.7).
 */

const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses a phone datetime (`date_modified`, meta times). Accepts what phones send: with or
 * without seconds, fractions, `Z`, `+01`, `-05:00`, `+0100`, or no offset (taken as UTC).
 * Returns a UTC ISO string with milliseconds, or null when unparseable — HQ raises
 * `PhoneDateValueError` then (`validate_phone_datetime`, hq:.../casexml/apps/case/xform.py).
 */
export function parsePhoneDateTime(value: string): string | null {
  const m = DATETIME_RE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', tz] = m;
  const ms = Number(`0.${frac || '0'}`) * 1000;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(ms));
  const date = new Date(t);
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 60
  )
    return null;
  if (tz && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    t -= sign * offMin * 60_000;
  }
  return new Date(t).toISOString();
}

/** `YYYY-MM-DD` validation for `date_opened` (bad values are a `CaseValueError` on HQ). */
export function parseDate(value: string): string | null {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (!m) return null;
  const dt = parsePhoneDateTime(v);
  if (dt === null) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** `json_format_datetime`: microsecond precision and a `Z`. */
export function formatHqDateTime(iso: string): string {
  return iso.endsWith('Z') && iso.length === 24 ? `${iso.slice(0, 23)}000Z` : iso;
}

/** HQ's API dates are naive (no `Z`, PROTOCOL.md 9.2): `2026-01-01T10:00:00.000000`. */
export function formatApiDateTime(iso: string | null): string | null {
  if (iso === null) return null;
  return formatHqDateTime(iso).replace(/Z$/, '');
}

/**
 * The API dates HQ writes with `json_format_datetime` (six-digit microseconds and a `Z`):
 * a case's `indexed_on` and a form's `received_on`, `server_modified_on`, `indexed_on`,
 * which the ES-backed resources pass through as stored
 * (hq:docs/api/openapi/components/schemas/case.yaml, form.yaml).
 */
export function formatApiDateTimeUtc(iso: string | null): string | null {
  return iso === null ? null : formatHqDateTime(iso);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DATE_HEADER_RE =
  /^(?:mon|tue|wed|thu|fri|sat|sun), (\d{1,2}) ([a-z]{3}) (\d{4}) (\d{1,2}):(\d{1,2}):(\d{1,2}) GMT$/i;

/**
 * The form's `date_header` as HQ stores it (`get_date_header`,
 * hq:corehq/ex-submodules/couchforms/getters.py): an HTTP `Date` in the
 * `%a, %d %b %Y %H:%M:%S GMT` shape becomes `YYYY-MM-DDTHH:MM:SSZ`; anything else is kept
 * as sent.
 */
export function formatDateHeader(value: string): string {
  const m = DATE_HEADER_RE.exec(value);
  const month = m ? MONTHS.indexOf((m[2] ?? '').toLowerCase()) : -1;
  if (!m || month < 0) return value;
  const pad = (x: string | undefined) => (x ?? '').padStart(2, '0');
  const iso = `${m[3]}-${String(month + 1).padStart(2, '0')}-${pad(m[1])}T${pad(m[4])}:${pad(m[5])}:${pad(m[6])}`;
  // strptime refuses impossible dates (31 Feb, 25:00); so does this check.
  return parsePhoneDateTime(`${iso}Z`) === null || Number(m[6]) > 59 ? value : `${iso}Z`;
}
