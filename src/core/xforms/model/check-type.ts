/**
 * The phone refuses an answer its question's type cannot hold (JavaRosa's AnswerDataFactory
 * and each IAnswerData's parser): a whole number for `int`, a number for `decimal`,
 * `YYYY-MM-DD` for `date`, `HH:MM[:SS[.sss]]` for `time`, an ISO date-time for `dateTime`,
 * 2-4 numbers for `geopoint` (lat lon [alt [accuracy]], lat in -90..90, lon in -180..180).
 * Returns a message, or undefined when the value fits. Empty values always fit.
 */
export function checkType(type: string, value: string): string | undefined {
  if (value === '') return undefined;
  switch (type) {
    case 'int':
    case 'integer':
    case 'long':
    case 'short':
      return /^[+-]?\d+$/.test(value.trim()) && Math.abs(Number(value)) <= Number.MAX_SAFE_INTEGER
        ? undefined
        : `"${value}" is not a whole number`;
    case 'decimal':
    case 'double':
    case 'float':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())
        ? undefined
        : `"${value}" is not a number`;
    case 'date':
      return validDate(value) ? undefined : `"${value}" is not a date (YYYY-MM-DD)`;
    case 'time':
      return /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([+-]\d\d(:?\d\d)?|Z)?$/.test(value)
        ? undefined
        : `"${value}" is not a time (HH:MM)`;
    case 'dateTime':
      return /^\d{4}-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([+-]\d\d(:?\d\d)?|Z)?$/.test(
        value,
      ) && validDate(value.slice(0, 10))
        ? undefined
        : `"${value}" is not a date and time`;
    case 'geopoint':
      return validGeopoint(value)
        ? undefined
        : `"${value}" is not a location (latitude longitude [altitude accuracy])`;
    default:
      return undefined;
  }
}

function validDate(v: string): boolean {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(v);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

function validGeopoint(v: string): boolean {
  const parts = v.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 4) return false;
  const nums = parts.map(Number);
  if (nums.some((n) => !Number.isFinite(n))) return false;
  const [lat, lon] = nums as [number, number];
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
}
