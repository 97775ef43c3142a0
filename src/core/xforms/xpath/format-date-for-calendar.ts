import { ETHIOPIAN_MONTHS, toEthiopian } from './ethiopian-calendar.ts';
import { type CalendarDate, NEPALI_LAST_YEAR, NEPALI_MONTHS, toNepali } from './nepali-calendar.ts';
import { NEPALI_FIRST_YEAR } from './nepali-calendar-data.ts';
import { daysSinceEpoch, formatDateFields } from './xpath-dates.ts';

/** CommCare's default when the third argument is absent (`CalendarUtils`: "%e %B %Y"). */
export const DEFAULT_CALENDAR_FORMAT = '%e %B %Y';

export const SUPPORTED_CALENDARS: readonly string[] = ['ethiopian', 'nepali'];

/**
 * `format-date-for-calendar(date, calendar[, format])` for a date at `ms` (commcare-core
 * `XPathFormatDateForCalendarFunc` and `org.javarosa.xform.util.CalendarUtils`): the local
 * calendar day converted to the Ethiopian or Nepali (Bikram Sambat) calendar, printed with
 * `format-date`'s escapes. `%B` and `%b` both print the full month name (CommCare gives the
 * calendar one list for both); the time escapes print midnight and the weekday escapes
 * (`%A %a %w`) fail, as the converted date carries only year, month and day. Throws `Error`
 * (the evaluator makes it `xpath-eval`) for another calendar, a Nepali date outside the
 * table, or a bad escape.
 */
export function formatDateForCalendar(ms: number, calendar: string, format?: string): string {
  const days = daysSinceEpoch(ms);
  let date: CalendarDate;
  let months: readonly string[];
  if (calendar === 'ethiopian') {
    date = toEthiopian(days);
    months = ETHIOPIAN_MONTHS;
  } else if (calendar === 'nepali') {
    const nepali = toNepali(days);
    if (nepali === undefined) {
      throw new Error(
        `format-date-for-calendar(): the date is outside the Nepali calendar table (${NEPALI_FIRST_YEAR}-${NEPALI_LAST_YEAR} BS)`,
      );
    }
    date = nepali;
    months = NEPALI_MONTHS;
  } else {
    throw new Error(
      `format-date-for-calendar(): unsupported calendar type ${JSON.stringify(calendar)} (supported: ${SUPPORTED_CALENDARS.join(', ')})`,
    );
  }
  return formatDateFields(
    { year: date.year, month: date.month, day: date.day, hour: 0, minute: 0, second: 0, millis: 0 },
    format ?? DEFAULT_CALENDAR_FORMAT,
    { monthsLong: months, monthsShort: months },
  );
}
