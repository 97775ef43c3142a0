/**
 * Opt-in rate limits (`--rate-limits hq`), shaped on HQ's submission and restore limiters
 * (`rate_limit_submission`, `rate_limit_restore`; hq:corehq/apps/receiverwrapper/rate_limiter.py,
 * hq:corehq/apps/ota/rate_limiter.py): per-project windows plus a per-user daily allowance.
 * A refused request gets 429 with an empty body and no Retry-After, as HQ sends.
 */
export type RateLimitMode = 'off' | 'hq';

interface Window {
  ms: number;
  limit: number;
}

const HQ_LIMITS = {
  submission: {
    project: [
      { ms: 1000, limit: 1 },
      { ms: 60_000, limit: 10 },
    ],
    userPerDay: 46,
  },
  restore: {
    project: [
      { ms: 1000, limit: 1 },
      { ms: 60_000, limit: 5 },
    ],
    userPerDay: 3,
  },
} as const;

const DAY = 86_400_000;

export class RateLimiter {
  mode: RateLimitMode;
  readonly #hits = new Map<string, number[]>();
  readonly #now: () => number;

  constructor(mode: RateLimitMode = 'off', now: () => number = Date.now) {
    this.mode = mode;
    this.#now = now;
  }

  /** Records the request and says whether it is allowed. */
  allow(kind: 'submission' | 'restore', domain: string, userId: string): boolean {
    if (this.mode === 'off') return true;
    const spec = HQ_LIMITS[kind];
    const now = this.#now();
    const checks: [string, Window][] = spec.project.map((w) => [`${kind}|p|${domain}|${w.ms}`, w]);
    checks.push([`${kind}|u|${userId}`, { ms: DAY, limit: spec.userPerDay }]);
    for (const [key, w] of checks) {
      const list = (this.#hits.get(key) ?? []).filter((t) => t > now - w.ms);
      this.#hits.set(key, list);
      if (list.length >= w.limit) return false;
    }
    for (const [key] of checks) this.#hits.get(key)!.push(now);
    return true;
  }

  reset(): void {
    this.#hits.clear();
  }
}
