/**
 * Delay before trying again after a retryable failure (the outbox, 429s on restores and on
 * the JSON APIs): exponential from `baseMs`, capped at `maxMs`, with "equal jitter" (half
 * fixed, half random) so that many devices knocked off by one outage do not come back in
 * lock-step. A server's
 * `Retry-After` wins when present (HQ sends none on 429, but proxies and 503s may).
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 5 * 60_000 };

export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.max(0, retryAfterMs);
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
