/**
 * Dates as JavaRosa writes them into an instance (`org.javarosa.core.model.utils.DateUtils`
 * ISO-8601 formats): a date is `YYYY-MM-DD`; a date-time carries milliseconds and the
 * device's UTC offset, `2026-12-02T15:03:21.123+01:00`. Local time, as on the phone.
 */
export function formatDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function formatDateTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${formatDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(
    d.getMilliseconds(),
  ).padStart(3, '0')}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
