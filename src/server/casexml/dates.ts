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
