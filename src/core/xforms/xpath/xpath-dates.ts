import type { XPathDate } from './xpath-types.ts';

/**
 * JavaRosa's date rules (commcare-core `org.javarosa.core.model.utils.DateUtils`):
 * calendar dates are local midnight; in arithmetic a date is the number of days since
 * 1970-01-01 in the local calendar; strings are `YYYY-MM-DD` for dates and ISO 8601 with
 * the local offset (`Z`, `+HH` or `+HH:MM`) for date-times. The local zone is the host's
 * (the runner sets `TZ` for reproducible runs).
 */

const DAY_MS = 86_400_000;

export function makeDate(ms: number, time: boolean): XPathDate {
  return { kind: 'date', ms, time };
}

export function isXPathDate(v: unknown): v is XPathDate {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { kind?: unknown }).kind === 'date'
  );
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Local midnight of a calendar date, or undefined when the fields are not a real date. */
export function localDate(year: number, month: number, day: number): XPathDate | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const d = new Date(2000, month - 1, day);
  d.setFullYear(year);
  return makeDate(d.getTime(), false);
}

/** The calendar date `days` days after 1970-01-01 (`date(14127)`), at local midnight. */
export function dateFromDays(days: number): XPathDate {
  const utc = new Date(days * DAY_MS);
  const d = new Date(2000, utc.getUTCMonth(), utc.getUTCDate());
  d.setFullYear(utc.getUTCFullYear());
  return makeDate(d.getTime(), false);
}

/** Whole days since 1970-01-01 of the local calendar date of `ms` (DST does not shift it). */
export function daysSinceEpoch(ms: number): number {
  const d = new Date(ms);
  return Math.round(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / DAY_MS) || 0;
}

/**
 * Fractional days since local midnight of 1970-01-01 (`double(now())`), JavaRosa's
 * `DateUtils.fractionalDaysSinceEpoch`.
 */
export function fractionalDaysSinceEpoch(ms: number): number {
  const d = new Date(ms);
  const offsetMs = d.getTimezoneOffset() * 60_000;
  return (ms - offsetMs) / DAY_MS;
}

/** Local midnight of the day `ms` falls on (JavaRosa `DateUtils.roundDate`). */
export function roundToDate(ms: number): XPathDate {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return makeDate(d.getTime(), false);
}

const DATE_RE = /^(\d{1,9})-(\d{1,2})-(\d{1,2})$/;
const TIME_RE = /^(\d{1,3}):(\d{1,3})(?::(\d{1,3})(?:\.(\d{1,9}))?)?(Z|[+-]\d{1,2}(?::?\d{2})?)?$/;

/**
 * `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.sss]][Z|+HH[:MM]]`, as JavaRosa's
 * `DateUtils.parseDateTime` accepts; undefined when it is not a valid date.
 */
export function parseDateString(s: string): XPathDate | undefined {
  const t = s.indexOf('T');
  const datePart = t < 0 ? s : s.slice(0, t);
  const dm = DATE_RE.exec(datePart);
  if (dm === null) return undefined;
  const year = Number(dm[1]);
  const month = Number(dm[2]);
  const day = Number(dm[3]);
  const date = localDate(year, month, day);
  if (date === undefined) return undefined;
  if (t < 0) return date;
  const tm = TIME_RE.exec(s.slice(t + 1));
  if (tm === null) return undefined;
  const hour = Number(tm[1]);
  const minute = Number(tm[2]);
  const second = Number(tm[3] ?? 0);
  const ms = tm[4] === undefined ? 0 : Math.floor(Number(`0.${tm[4]}`) * 1000);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = tm[5];
  if (zone === undefined) {
    const d = new Date(2000, month - 1, day, hour, minute, second, ms);
    d.setFullYear(year);
    return makeDate(d.getTime(), true);
  }
  let offsetMin = 0;
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const hh = Number(digits.length <= 2 ? digits : digits.slice(0, digits.length - 2));
    const mm = digits.length <= 2 ? 0 : Number(digits.slice(-2));
    offsetMin = sign * (hh * 60 + mm);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  return makeDate(utc, true);
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

export function formatIsoDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)}`;
}

/** `2026-12-02T15:03:22.123+01` style, as JavaRosa's `DateUtils.formatDateTime(ISO8601)`. */
export function formatIsoDateTime(ms: number): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
  const offset = -d.getTimezoneOffset();
  let zone = 'Z';
  if (offset !== 0) {
    const abs = Math.abs(offset);
    zone = `${offset > 0 ? '+' : '-'}${pad(Math.floor(abs / 60), 2)}${abs % 60 === 0 ? '' : `:${pad(abs % 60, 2)}`}`;
  }
  return `${formatIsoDate(ms)}T${time}${zone}`;
}

const MONTHS_LONG = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
// strftime escapes JavaRosa names as known but refuses (`DateUtils.format`).
const REFUSED_ESCAPES = 'cCDFgGIjklpPrRstTuUVWxXzZ';

/** What a date format string can print; `dow` (0 = Sunday) is absent for non-Gregorian dates. */
export interface DateFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millis: number;
  readonly dow?: number;
}

/** Month names for `%B` and `%b`, day names for `%A` and `%a`. */
export interface CalendarNames {
  readonly monthsLong: readonly string[];
  readonly monthsShort: readonly string[];
}

const GREGORIAN_NAMES: CalendarNames = {
  monthsLong: MONTHS_LONG,
  monthsShort: MONTHS_LONG.map((m) => m.slice(0, 3)),
};

/**
 * `format-date(date, format)` with JavaRosa's escapes (`DateUtils.format`): %Y %y %m %n
 * %B %b %d %e %H %h %M %S %3 %A %a %w %%. Throws `Error` with a message for an unknown
 * escape or a trailing `%`; the caller turns it into an `xpath-eval` error.
 */
export function formatDate(ms: number, format: string): string {
  const d = new Date(ms);
  const fields: DateFields = {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    millis: d.getMilliseconds(),
    dow: d.getDay(),
  };
  return formatDateFields(fields, format, GREGORIAN_NAMES);
}

function dayOfWeek(f: DateFields, esc: string): number {
  // JavaRosa leaves the weekday unset for other calendars and fails on it.
  if (f.dow === undefined) throw new Error(`date format escape %${esc} needs a weekday this calendar lacks`);
  return f.dow;
}

/**
 * The escapes of `formatDate` applied to date fields with the given month names (JavaRosa
 * `DateUtils.format(DateFields, String, CalendarStrings)`, which `format-date-for-calendar`
 * also uses).
 */
export function formatDateFields(f: DateFields, format: string, names: CalendarNames): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    i++;
    if (i >= format.length) throw new Error('date format string ends with %');
    const e = format[i] as string;
    switch (e) {
      case '%':
        out += '%';
        break;
      case 'Y':
        out += pad(f.year, 4);
        break;
      case 'y':
        out += pad(f.year, 4).slice(2);
        break;
      case 'm':
        out += pad(f.month, 2);
        break;
      case 'n':
        out += String(f.month);
        break;
      case 'B':
        out += names.monthsLong[f.month - 1];
        break;
      case 'b':
        out += names.monthsShort[f.month - 1];
        break;
      case 'd':
        out += pad(f.day, 2);
        break;
      case 'e':
        out += String(f.day);
        break;
      case 'H':
        out += pad(f.hour, 2);
        break;
      case 'h':
        out += String(f.hour);
        break;
      case 'M':
        out += pad(f.minute, 2);
        break;
      case 'S':
        out += pad(f.second, 2);
        break;
      case '3':
        out += pad(f.millis, 3);
        break;
      case 'A':
        out += DAYS_LONG[dayOfWeek(f, e)];
        break;
      case 'a':
        out += (DAYS_LONG[dayOfWeek(f, e)] as string).slice(0, 3);
        break;
      case 'w':
        out += String(dayOfWeek(f, e));
        break;
      default:
        throw new Error(
          REFUSED_ESCAPES.includes(e)
            ? `unsupported escape in date format string [%${e}]`
            : `unrecognized escape in date format string [%${e}]`,
        );
    }
  }
  return out;
}
