import type { CalendarDate } from './nepali-calendar.ts';

/**
 * Ethiopian month names as CommCare prints them when the app has no `ethiopian_months`
 * locale string: Ge'ez names in Latin transliteration (commcare-core
 * `org.commcare.util.DefaultArrayDataSource`, with U+2019 for the ejective mark).
 */
export const ETHIOPIAN_MONTHS: readonly string[] = [
  'Mäskäräm',
  'T’ïk’ïmt',
  'Hïdar',
  'Tahsas',
  'T’ïr',
  'Yäkatit',
  'Mägabit',
  'Miyaziya',
  'Gïnbot',
  'Säne',
  'Hämle',
  'Nähäse',
  'P’agume',
];

/** Julian Day Number of 1970-01-01 (Gregorian). */
const JDN_UNIX_EPOCH = 2_440_588;
/** Julian Day Number of 1 Mäskäräm 1 (Amete Mihret era): 27 August 8 CE, proleptic Gregorian. */
const JDN_ETHIOPIAN_EPOCH = 1_724_221;

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/**
 * The Ethiopian date of a calendar day given as whole days since 1970-01-01, as Joda's
 * EthiopicChronology computes it for commcare-core's `CalendarUtils.ConvertToEthiopian`.
 * A year is twelve 30-day months and a 13th (P'agume) of 5 days, 6 when the year number
 * is 3 mod 4 (2015 E.C. ended on 6 P'agume, 11 September 2023). So every 4 years span
 * 1461 days, and year y starts 365 (y - 1) + floor(y / 4) days after the epoch.
 */
export function toEthiopian(daysSinceEpoch: number): CalendarDate {
  const n = daysSinceEpoch + JDN_UNIX_EPOCH - JDN_ETHIOPIAN_EPOCH;
  const year = floorDiv(4 * n + 1463, 1461);
  const dayOfYear = n - (365 * (year - 1) + floorDiv(year, 4));
  return { year, month: floorDiv(dayOfYear, 30) + 1, day: (dayOfYear % 30) + 1 };
}
