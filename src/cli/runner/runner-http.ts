import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { FetchLike } from '../../core/platform.ts';
import { leanFetch } from '../../node-http/lean-fetch.ts';

/**
 * The HTTP client of a run's workers. `lean` (the default): the receiver POSTs, most of a
 * run's requests (one per form), go over node:http keep-alive sockets (lean-fetch.ts),
 * which builds no Request, header list or body stream per call; login, restore and API
 * calls (ky's Requests) still go through Node's fetch. `fetch`: every request through
 * Node's fetch (undici), as before session 7, to compare (FIELDSIM_RUNNER_HTTP).
 */
export type RunnerHttpKind = 'lean' | 'fetch';

export const RUNNER_HTTP_ENV = 'FIELDSIM_RUNNER_HTTP';

export function runnerHttpKind(env: NodeJS.ProcessEnv = process.env): RunnerHttpKind {
  const v = env[RUNNER_HTTP_ENV];
  if (v === undefined || v === '' || v === 'lean') return 'lean';
  if (v === 'fetch') return v;
  throw new FieldsimError('invalid-argument', `${RUNNER_HTTP_ENV} must be lean or fetch, not ${v}`);
}

export interface RunnerHttp {
  readonly fetch: FetchLike;
  /** Ends the client's idle keep-alive sockets (the run is over). */
  close(): void;
}

export function openRunnerHttp(kind: RunnerHttpKind): RunnerHttp {
  if (kind === 'fetch') return { fetch: (input, init) => fetch(input, init), close() {} };
  // No socket limit of its own, as Node's fetch has none: the run's in-flight gate
  // (gatedFetch) is the one queue, and it counts in each request's latency.
  const f = leanFetch({ maxSockets: Number.POSITIVE_INFINITY });
  return { fetch: f, close: () => f.close() };
}
