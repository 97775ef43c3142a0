/**
 * Fault injection for tests and QA runs (issue 5): shares of 500s, 429s, connections
 * dropped after the form was stored, and added latency, on the receiver and on restore;
 * and a share of 423s on the receiver only: HQ's answer when the form id is locked by a
 * concurrent submission (`XFormLockError`, hq:corehq/apps/receiverwrapper/views.py),
 * which the emulator, processing one form at a time, never meets on its own.
 * Syntax (`--faults`, FIELDSIM_FAULTS, admin endpoint):
 * `500=0.2,drop-after-store=0.1,429=0.05,423=0.05,latency=50ms` — any subset.
 */
export interface FaultConfig {
  error500: number;
  error429: number;
  /** Receiver only; optional so configurations written before it stay valid. */
  locked423?: number;
  dropAfterStore: number;
  latencyMs: number;
}

export const NO_FAULTS: FaultConfig = { error500: 0, error429: 0, dropAfterStore: 0, latencyMs: 0 };

export class FaultSyntaxError extends Error {
  override readonly name = 'FaultSyntaxError';
}

function share(key: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || v > 1)
    throw new FaultSyntaxError(`${key} must be a share between 0 and 1, got ${raw}`);
  return v;
}

export function parseFaults(spec: string): FaultConfig {
  const out: FaultConfig = { ...NO_FAULTS };
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw new FaultSyntaxError(`expected key=value, got ${JSON.stringify(item)}`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    switch (key) {
      case '500':
        out.error500 = share(key, value);
        break;
      case '429':
        out.error429 = share(key, value);
        break;
      case '423':
        out.locked423 = share(key, value);
        break;
      case 'drop-after-store':
        out.dropAfterStore = share(key, value);
        break;
      case 'latency': {
        const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
        if (!m) throw new FaultSyntaxError(`latency must look like 50ms or 1s, got ${value}`);
        out.latencyMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
        break;
      }
      default:
        throw new FaultSyntaxError(
          `unknown fault ${JSON.stringify(key)} (known: 500, 429, 423, drop-after-store, latency)`,
        );
    }
  }
  return out;
}

export function formatFaults(f: FaultConfig): string {
  const locked = f.locked423 ? `,423=${f.locked423}` : '';
  return `500=${f.error500},429=${f.error429}${locked},drop-after-store=${f.dropAfterStore},latency=${f.latencyMs}ms`;
}

/** What to do with one request, decided up front so a test can reason about shares. */
export type FaultDecision = 'none' | '500' | '429' | '423' | 'drop-after-store';

export function decideFault(f: FaultConfig, random: () => number): FaultDecision {
  const r = random();
  if (r < f.error500) return '500';
  if (r < f.error500 + f.error429) return '429';
  const locked = f.locked423 ?? 0;
  if (r < f.error500 + f.error429 + locked) return '423';
  if (r < f.error500 + f.error429 + locked + f.dropAfterStore) return 'drop-after-store';
  return 'none';
}
