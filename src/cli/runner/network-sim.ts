import { NetworkError } from '../../core/errors/network-error.ts';
import type { Prng } from '../../core/lib/prng.ts';
import type { FetchLike } from '../../core/platform.ts';

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
  // A generic OpenRosa server's submission endpoint (`.../submission?deviceID=`) counts as one.
  if (url.includes('/receiver/') || /\/submission(?:\?|$)/.test(url)) return 'receiver';
  if (url.includes('/sso/')) return 'sso';
  if (url.includes('/api/')) return 'api';
  return 'other';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Caps the requests this process has waiting for response headers. A thousand workers
 * starting at once would otherwise open a thousand connections in the same instant: the
 * server's listen backlog (511 by default in Node) overflows, the kernel drops the
 * surplus SYNs and those connections fail after the connect timeout, which measures the
 * load generator rather than the server. Waiting for a slot is counted in each request's
 * latency, as a phone's queueing would be. Bodies stream after the slot is released.
 */
export function gatedFetch(base: FetchLike, maxInFlight: number): FetchLike {
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  };
  return async (input, init) => {
    if (inFlight < maxInFlight) inFlight++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      // A reset pooled connection is retried, as phone HTTP stacks do (OkHttp's
      // retryOnConnectionFailure): with the event loop busy for seconds, keep-alive
      // sockets outlive the server's keep-alive timeout and are reset on reuse, several
      // at once. Only GET/HEAD, at most STALE_RETRIES times; form POSTs are retried by
      // the outbox, same bytes.
      for (let attempt = 0; ; attempt++) {
        try {
          return await base(input, init);
        } catch (e) {
          if (
            attempt >= STALE_RETRIES ||
            !isStaleSocket(e) ||
            !isIdempotent(input, init) ||
            init?.signal?.aborted
          )
            throw e;
        }
      }
    } finally {
      release();
    }
  };
}

const STALE_RETRIES = 3;

const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

function isStaleSocket(e: unknown): boolean {
  let x: unknown = e;
  for (let depth = 0; x && typeof x === 'object' && depth < 5; depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && STALE_SOCKET_CODES.has(code)) return true;
    x = (x as { cause?: unknown }).cause;
  }
  return false;
}

function isIdempotent(input: string | URL | Request, init: RequestInit | undefined): boolean {
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  return method === 'GET' || method === 'HEAD';
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
