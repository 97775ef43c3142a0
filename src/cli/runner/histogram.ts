/**
 * A mergeable latency histogram with log-spaced buckets: bucket `k` holds values in
 * [RATIO^k, RATIO^(k+1)) microseconds, so any percentile read from it is within 1% of the
 * exact sample value (it reports the bucket's geometric middle, clamped to the observed
 * min and max). Shard reports carry the buckets, and `fieldsim report merge` adds them,
 * so merged percentiles have the same 1% bound as a single run's. A few thousand bytes
 * per step kind whatever the number of samples (values up to hours need < 2,200 buckets).
 */

export const HISTOGRAM_RATIO = 1.01;
const LN_RATIO = Math.log(HISTOGRAM_RATIO);

/** The JSON form (report format version 1). `buckets` are `[index, count]`, index ascending. */
export interface HistogramJson {
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  buckets: [number, number][];
}

function bucketOf(ms: number): number {
  const us = Math.max(1, ms * 1000);
  return Math.floor(Math.log(us) / LN_RATIO);
}

function bucketMiddleMs(k: number): number {
  return HISTOGRAM_RATIO ** (k + 0.5) / 1000;
}

export class Histogram {
  count = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = 0;
  readonly #buckets = new Map<number, number>();

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.count++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    const k = bucketOf(ms);
    this.#buckets.set(k, (this.#buckets.get(k) ?? 0) + 1);
  }

  merge(other: Histogram | HistogramJson): void {
    const json = other instanceof Histogram ? other.toJSON() : other;
    if (json.count === 0) return;
    this.count += json.count;
    this.sumMs += json.sumMs;
    this.minMs = Math.min(this.minMs, json.minMs);
    this.maxMs = Math.max(this.maxMs, json.maxMs);
    for (const [k, n] of json.buckets) this.#buckets.set(k, (this.#buckets.get(k) ?? 0) + n);
  }

  /** Nearest-rank percentile (`p` in [0, 100]) in ms; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank >= this.count) return this.maxMs;
    let seen = 0;
    for (const k of [...this.#buckets.keys()].sort((a, b) => a - b)) {
      seen += this.#buckets.get(k) ?? 0;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, bucketMiddleMs(k)));
    }
    return this.maxMs;
  }

  meanMs(): number {
    return this.count === 0 ? 0 : this.sumMs / this.count;
  }

  toJSON(): HistogramJson {
    return {
      count: this.count,
      sumMs: round3(this.sumMs),
      minMs: this.count === 0 ? 0 : round3(this.minMs),
      maxMs: round3(this.maxMs),
      buckets: [...this.#buckets.entries()].sort((a, b) => a[0] - b[0]),
    };
  }

  static fromJSON(json: HistogramJson): Histogram {
    const h = new Histogram();
    h.merge(json);
    return h;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
