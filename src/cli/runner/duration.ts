/**
 * Durations and rates as scenario files and flags write them: `200ms`, `2s`, `1.5m`, `1h`
 * (a bare number means seconds, as in most load tools), and `5/s`, `30/m`, `100/h`.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or null when `v` is not a duration. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return null;
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
}

/** Arrivals per second, or null when `v` is not a rate (`5/s`, `30/m`, `2/h`, or a number = per second). */
export function parseRate(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)\s*$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  if (!(n > 0)) return null;
  return n / ((UNIT_MS[m[2] ?? 's'] ?? 1000) / 1000);
}

/** `850 ms`, `12.3 s`, `4m05s`: for the summary and the progress line. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
