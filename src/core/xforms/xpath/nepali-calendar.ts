import { NEPALI_FIRST_YEAR, NEPALI_MONTH_DAYS } from './nepali-calendar-data.ts';

/** A date in a non-Gregorian calendar: year, 1-based month and day. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/**
 * Nepali month names as CommCare prints them when the app has no `nepali_months` locale
 * string (commcare-core `org.commcare.util.DefaultArrayDataSource`).
 */
export const NEPALI_MONTHS: readonly string[] = [
  'Baishakh',
  'Jestha',
  'Ashadh',
  'Shrawan',
  'Bhadra',
  'Ashwin',
  'Kartik',
  'Mangsir',
  'Poush',
  'Magh',
  'Falgun',
  'Chaitra',
];

export const NEPALI_LAST_YEAR = NEPALI_FIRST_YEAR + NEPALI_MONTH_DAYS.length - 1;

/** Days from 1 Baishakh of each table year to 1 Baishakh 1970 BS. */
const YEAR_STARTS: number[] = [];
{
  let total = 0;
  for (const months of NEPALI_MONTH_DAYS) {
    YEAR_STARTS.push(total);
    for (const n of months) total += n;
  }
  YEAR_STARTS.push(total);
}

/**
 * The anchor commcare-core's `CalendarUtils` uses: Gregorian 1970-01-01 is 17 Poush 2026 BS.
 * `EPOCH_OFFSET` is that day's index counted from 1 Baishakh 1970 BS.
 */
const EPOCH_OFFSET = ((): number => {
  const months = NEPALI_MONTH_DAYS[2026 - NEPALI_FIRST_YEAR] as readonly number[];
  let days = YEAR_STARTS[2026 - NEPALI_FIRST_YEAR] as number;
  for (let m = 0; m < 8; m++) days += months[m] as number;
  return days + 16;
})();

/**
 * The Bikram Sambat date of a calendar day given as whole days since 1970-01-01, or
 * undefined outside the table (1970-2090 BS), where CommCare fails too ("Date out of bounds").
 */
export function toNepali(daysSinceEpoch: number): CalendarDate | undefined {
  const index = daysSinceEpoch + EPOCH_OFFSET;
  const total = YEAR_STARTS[YEAR_STARTS.length - 1] as number;
  if (index < 0 || index >= total) return undefined;
  // Binary search for the year whose start is the last one <= index.
  let lo = 0;
  let hi = NEPALI_MONTH_DAYS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((YEAR_STARTS[mid] as number) <= index) lo = mid;
    else hi = mid - 1;
  }
  let rest = index - (YEAR_STARTS[lo] as number);
  const months = NEPALI_MONTH_DAYS[lo] as readonly number[];
  let month = 0;
  while (rest >= (months[month] as number)) {
    rest -= months[month] as number;
    month++;
  }
  return { year: NEPALI_FIRST_YEAR + lo, month: month + 1, day: rest + 1 };
}
