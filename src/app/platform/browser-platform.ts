import { signal } from '@preact/signals';
import type { FetchLike, LockFn } from '../../core/platform.ts';

/**
 * The browser's side of the core's injected I/O: Web Locks for the one-sender rule across
 * tabs, the page's fetch wrapped with an HTTP log and a network simulator (Diagnostics),
 * and the online/offline signal.
 */

/** `navigator.locks` when the browser has it; otherwise a lock local to this tab. */
export function browserLock(): LockFn {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (locks) {
    // lib.dom types the result as Promise<Promise<T>>; at runtime it resolves to fn's value.
    return <T>(name: string, fn: () => Promise<T>) =>
      locks.request(name, { mode: 'exclusive' }, fn) as unknown as Promise<T>;
  }
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  };
}

export interface HttpLogEntry {
  id: number;
  method: string;
  /** Path and query with any credentials removed. */
  url: string;
  status: number | 'network-error' | 'simulated-offline' | 'simulated-failure';
  startedAt: number;
  ms: number;
  /** Response size in bytes when the server said (Content-Length) or -1. */
  size: number;
}

export interface NetworkSimulation {
  offline: boolean;
  latencyMs: number;
  /** 0..1: share of requests that fail as a network error. */
  failureRate: number;
}

export const httpLog = signal<HttpLogEntry[]>([]);
export const networkSimulation = signal<NetworkSimulation>({ offline: false, latencyMs: 0, failureRate: 0 });
export const online = signal<boolean>(typeof navigator === 'undefined' ? true : navigator.onLine);

const MAX_LOG = 200;
let nextId = 1;

/** Strips user info and credential-looking query parameters before a URL is shown or kept. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw, 'http://local.invalid');
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|token|auth|secret|key/i.test(key)) u.searchParams.set(key, 'REDACTED');
    }
    return u.origin === 'http://local.invalid' ? `${u.pathname}${u.search}` : u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function record(entry: Omit<HttpLogEntry, 'id'>): void {
  const next = [{ ...entry, id: nextId++ }, ...httpLog.value];
  httpLog.value = next.length > MAX_LOG ? next.slice(0, MAX_LOG) : next;
}

function requestParts(input: string | URL | Request, init?: RequestInit): { method: string; url: string } {
  if (input instanceof Request) return { method: init?.method ?? input.method, url: input.url };
  return { method: (init?.method ?? 'GET').toUpperCase(), url: String(input) };
}

export function loggingFetch(base: FetchLike = (i, init) => fetch(i, init)): FetchLike {
  return async (input, init) => {
    const { method, url } = requestParts(input, init);
    const startedAt = Date.now();
    const sim = networkSimulation.value;
    const shown = redactUrl(url);
    if (sim.latencyMs > 0) await new Promise((r) => setTimeout(r, sim.latencyMs));
    if (sim.offline || (sim.failureRate > 0 && Math.random() < sim.failureRate)) {
      const status = sim.offline ? 'simulated-offline' : 'simulated-failure';
      record({ method, url: shown, status, startedAt, ms: Date.now() - startedAt, size: -1 });
      throw new TypeError(`Failed to fetch (${status})`);
    }
    try {
      const res = await base(input, init);
      const len = res.headers.get('content-length');
      record({
        method,
        url: shown,
        status: res.status,
        startedAt,
        ms: Date.now() - startedAt,
        size: len === null ? -1 : Number(len),
      });
      return res;
    } catch (e) {
      record({
        method,
        url: shown,
        status: 'network-error',
        startedAt,
        ms: Date.now() - startedAt,
        size: -1,
      });
      throw e;
    }
  };
}

/** Keeps `online` in step with the browser; returns a function that stops listening. */
export function watchOnline(onChange: (isOnline: boolean) => void): () => void {
  const up = () => {
    online.value = true;
    onChange(true);
  };
  const down = () => {
    online.value = false;
    onChange(false);
  };
  window.addEventListener('online', up);
  window.addEventListener('offline', down);
  return () => {
    window.removeEventListener('online', up);
    window.removeEventListener('offline', down);
  };
}
