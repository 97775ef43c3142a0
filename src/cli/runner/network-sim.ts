import { NetworkError } from '../../core/errors/network-error.ts';
import type { FetchLike } from '../../core/platform.ts';
import type { Prng } from './prng.ts';

/**
 * One simulated worker's network: wraps that worker's fetch only, so `offline`, added
 * latency and a failure share never touch another worker. Failures are thrown before the
 * request leaves (as a dead radio would), as `NetworkError`s marked simulated so the
 * runner can tell them from real connection failures. The same wrapper times every
 * request by endpoint (sso, restore, receiver, api).
 */

export type Endpoint = 'sso' | 'restore' | 'receiver' | 'api' | 'other';

export interface RequestSample {
  endpoint: Endpoint;
  ms: number;
  /** HTTP status, or 0 when no answer came. */
  status: number;
}

/** Marks our own injected failures (offline, `fail` share). */
export const SIMULATED = Symbol('fieldsim.simulated');

export function isSimulated(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { [SIMULATED]?: boolean })[SIMULATED] === true;
}

function simulatedError(code: 'network-offline' | 'network-error', message: string): NetworkError {
  const e = new NetworkError(code, message);
  Object.defineProperty(e, SIMULATED, { value: true });
  return e;
}

export function endpointOf(url: string): Endpoint {
  if (url.includes('/phone/restore/')) return 'restore';
  if (url.includes('/receiver/')) return 'receiver';
  if (url.includes('/sso/')) return 'sso';
  if (url.includes('/api/')) return 'api';
  return 'other';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class NetworkSim {
  online = true;
  latencyMs = 0;
  jitterMs = 0;
  fail = 0;
  /** Simulated failures so far (the runner compares before/after a step). */
  simulatedFailures = 0;
  readonly #base: FetchLike;
  readonly #rng: Prng;
  readonly #onSample: (s: RequestSample) => void;

  constructor(base: FetchLike, rng: Prng, onSample: (s: RequestSample) => void) {
    this.#base = base;
    this.#rng = rng;
    this.#onSample = onSample;
  }

  readonly fetch: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const endpoint = endpointOf(url);
    if (!this.online) {
      this.simulatedFailures++;
      throw simulatedError('network-offline', 'The worker is offline (simulated)');
    }
    const t0 = performance.now();
    const delay = this.latencyMs + (this.jitterMs > 0 ? this.#rng.next() * this.jitterMs : 0);
    if (delay > 0) await sleep(delay);
    if (this.#rng.chance(this.fail)) {
      this.simulatedFailures++;
      this.#onSample({ endpoint, ms: performance.now() - t0, status: 0 });
      throw simulatedError('network-error', 'Connection failed (simulated network failure)');
    }
    try {
      const res = await this.#base(input, init);
      // Headers time: the body is still streaming (restores), which the step timing covers.
      this.#onSample({ endpoint, ms: performance.now() - t0, status: res.status });
      return res;
    } catch (e) {
      this.#onSample({ endpoint, ms: performance.now() - t0, status: 0 });
      throw e;
    }
  };
}
