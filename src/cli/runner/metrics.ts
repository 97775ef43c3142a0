import { Histogram } from './histogram.ts';
import type { Endpoint, RequestSample } from './network-sim.ts';

/**
 * What a run records, shared by all workers of the process: per step kind and per HTTP
 * endpoint a count, an error count and a latency histogram; errors grouped by (step kind,
 * message); assertion outcomes; one result per worker. report.ts turns it into the JSON
 * report.
 */

export interface StepStats {
  count: number;
  errors: number;
  /** Failures that do not fail the run: simulated network trouble, or `allow_failure`. */
  expectedErrors: number;
  latency: Histogram;
  /** HTTP statuses seen (requests only; `0` = no answer). */
  statuses?: Record<string, number>;
}

export interface ErrorGroup {
  step: string;
  message: string;
  expected: boolean;
  count: number;
  /** The first few workers (usernames) that hit it. */
  workers: string[];
}

export interface AssertionResult {
  worker: number;
  user: string;
  /** Step path in the scenario, e.g. `steps[9]`. */
  step: string;
  kind: 'assert_local' | 'assert_server' | 'assert_forwarded';
  /** What was checked: `open_cases[type=household]`, `cases.open`, `forms.count`, `outbox.pending`. */
  check: string;
  ok: boolean;
  expected: string;
  actual: string;
}

export interface WorkerFailure {
  step: string;
  kind: string;
  message: string;
}

export interface WorkerResult {
  worker: number;
  user: string;
  ok: boolean;
  /** `completed` ran every step; `stopped` gave up after an unexpected failure (on_error: stop). */
  status: 'completed' | 'stopped' | 'not-started';
  stepsRun: number;
  errors: number;
  formsSent: number;
  startedAtMs: number;
  durationMs: number;
  /** Unexpected failures and failed assertions, the first 20. */
  failures: WorkerFailure[];
}

const MAX_GROUP_WORKERS = 5;

export class RunMetrics {
  readonly steps = new Map<string, StepStats>();
  readonly requests = new Map<Endpoint, StepStats>();
  readonly #errors = new Map<string, ErrorGroup>();
  readonly assertions: AssertionResult[] = [];
  readonly workers: WorkerResult[] = [];
  /** Live figures for the progress display. */
  active = 0;
  finished = 0;
  stepsDone = 0;
  errorCount = 0;
  unexpectedErrors = 0;
  /** Forms the receiver accepted (201) and requests made: the timeline's throughput. */
  formsAccepted = 0;
  requestCount = 0;

  #stats<K>(map: Map<K, StepStats>, key: K): StepStats {
    let s = map.get(key);
    if (!s) {
      s = { count: 0, errors: 0, expectedErrors: 0, latency: new Histogram() };
      map.set(key, s);
    }
    return s;
  }

  /**
   * A latency that is not a step of its own, shown in the step table under `kind`
   * (`forwarding`: a form's ack to its arrival at the forwarding sink).
   */
  latency(kind: string, ms: number): void {
    const s = this.#stats(this.steps, kind);
    s.count++;
    s.latency.record(ms);
  }

  step(kind: string, ms: number, outcome: 'ok' | 'error' | 'expected-error'): void {
    const s = this.#stats(this.steps, kind);
    s.count++;
    s.latency.record(ms);
    this.stepsDone++;
    if (outcome !== 'ok') {
      s.errors++;
      this.errorCount++;
      if (outcome === 'expected-error') s.expectedErrors++;
      else this.unexpectedErrors++;
    }
  }

  /**
   * `notAnError`: an answer the run expected and handles (a 400 "already taken" when it
   * creates a user that exists and reuses it), counted by status but not as an error.
   */
  request(r: RequestSample, opts: { notAnError?: boolean } = {}): void {
    const s = this.#stats(this.requests, r.endpoint);
    s.count++;
    s.latency.record(r.ms);
    s.statuses ??= {};
    s.statuses[r.status] = (s.statuses[r.status] ?? 0) + 1;
    if ((r.status === 0 || r.status >= 400) && opts.notAnError !== true) s.errors++;
    this.requestCount++;
    if (r.endpoint === 'receiver' && r.status === 201) this.formsAccepted++;
  }

  error(step: string, message: string, expected: boolean, user: string): void {
    // Ids in messages (case ids, instanceIDs, URLs with tokens) would split one problem
    // into thousands of groups: collapse UUID-like runs of hex.
    const norm = message.replace(
      /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/gi,
      '<id>',
    );
    const key = `${step}\u0000${expected}\u0000${norm}`;
    let g = this.#errors.get(key);
    if (!g) {
      g = { step, message: norm, expected, count: 0, workers: [] };
      this.#errors.set(key, g);
    }
    g.count++;
    if (g.workers.length < MAX_GROUP_WORKERS && !g.workers.includes(user)) g.workers.push(user);
  }

  errorGroups(): ErrorGroup[] {
    return [...this.#errors.values()].sort((a, b) => b.count - a.count || a.message.localeCompare(b.message));
  }
}
