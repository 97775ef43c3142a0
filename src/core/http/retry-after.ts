/**
 * `Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 section 10.2.3). HQ sends
 * delta-seconds on an async restore's 202 (`ASYNC_RETRY_AFTER`, PROTOCOL.md 3.5) and none
 * on its 429s; proxies in front of HQ may send either form.
 *
 * @returns milliseconds to wait (never negative), or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
