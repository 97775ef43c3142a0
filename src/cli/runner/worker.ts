import { v4 as uuidv4 } from 'uuid';
import { instanceResolver } from '../../core/apps/app-device-data.ts';
import { type Answers, buildAppFormDraft } from '../../core/apps/app-form-draft.ts';
import type { AppForm, AppQuestion } from '../../core/apps/app-structure.ts';
import { datumValues, fillAppForm } from '../../core/apps/fill-app-form.ts';
import { readDeviceData } from '../../core/apps/read-device-data.ts';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';
import { isNetworkError } from '../../core/http/is-network-error.ts';
import { Prng } from '../../core/lib/prng.ts';
import { createInProcessLock, type FetchLike } from '../../core/platform.ts';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { findEntry } from '../../core/suite/menu-navigation.ts';
import { login, type Session } from '../../core/sync/session.ts';
import type { AssertionResult, RunMetrics, WorkerFailure, WorkerResult } from './metrics.ts';
import { isSimulated, NetworkSim } from './network-sim.ts';
import type { CaseRef, CountCheck, Props, Scenario, Step } from './scenario-types.ts';
import type { RunServices } from './services.ts';
import type { TemplateContext } from './template.ts';
import { openWorkerStore, runnerStoreKind, type WorkerStore } from './worker-store.ts';

/**
 * One simulated mobile worker: a real core `Session` with its own in-memory database
 * (worker-store.ts, so no two workers share a database), its own
 * network simulator around fetch, and its own seeded random streams. It runs the
 * scenario's steps in order and records each one in the shared `RunMetrics`.
 *
 * Failures: a step that throws (or a sync/send that leaves forms unsent) fails. The
 * failure is *expected* when the step has `allow_failure: true` or when the worker's own
 * simulated network caused it (offline, or the `fail` share); expected failures never
 * fail the run. After an unexpected failure the worker stops (`on_error: stop`, the
 * default) or goes on (`on_error: continue`); failed assertions never stop a worker.
 */

/**
 * PBKDF2 iterations for each worker's offline-login verifier. The default (600,000, see
 * password-verifier.ts) costs ~0.3 s of CPU per login; a run of 1,000 workers in one
 * process would spend minutes hashing. Simulated workers never log in offline against a
 * stored verifier that matters, so a low count keeps the code path without the cost.
 */
export const SIMULATION_PBKDF2_ITERATIONS = 1_000;

export interface WorkerSpec {
  /** 1-based, global across shards. */
  number: number;
  username: string;
  password: string;
}

export interface WorkerEnv {
  scenario: Scenario;
  serverUrl: string;
  shard: number;
  metrics: RunMetrics;
  services: () => RunServices;
  baseFetch: FetchLike;
  /** Epoch ms when `repeat: duration` loops end (null without a duration). */
  deadline: number | null;
  signal: AbortSignal;
  /** Bounds the workers restoring at once (RunOptions.maxRestores); null: no bound. */
  restoreSlots: Slots | null;
}

/** A counting semaphore, first come first served. */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#waiting.push(r));
    try {
      return await f();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** An assertion that did not hold (the details are in the assertion results). */
export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed';
}

/** A step outcome that is a failure without an exception (forms left unsent). */
export class StepFailed extends Error {
  override readonly name = 'StepFailed';
  readonly simulated: boolean;
  constructor(message: string, simulated: boolean) {
    super(message);
    this.simulated = simulated;
  }
}

export { WorkerStopped } from './worker-lifecycle.ts';

import { runWorkerLifecycle, WorkerStopped } from './worker-lifecycle.ts';

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function compare(actual: number, c: CountCheck, sent: number): boolean {
  const want = c.value === 'sent' ? sent : c.value;
  switch (c.op) {
    case '=':
      return actual === want;
    case '!=':
      return actual !== want;
    case '>=':
      return actual >= want;
    case '<=':
      return actual <= want;
    case '>':
      return actual > want;
    case '<':
      return actual < want;
  }
}

export function describeChecks(checks: CountCheck[], sent: number): string {
  return checks
    .map((c) => `${c.op === '=' ? '' : `${c.op} `}${c.value === 'sent' ? `${sent} (sent)` : c.value}`)
    .join(' and ');
}

/**
 * The message, with the innermost cause's code when there is one: Node's fetch says only
 * "fetch failed" and keeps the reason (ECONNRESET, UND_ERR_CONNECT_TIMEOUT) in `cause`.
 * Query strings are dropped: they carry ids and tokens that would split one problem into
 * a group per worker.
 */
export function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let msg = isFieldsimError(e) ? `${e.message} [${e.code}]` : e.message;
  let inner: unknown = e.cause;
  let root: { code?: unknown; message?: unknown } | undefined;
  for (let depth = 0; inner && typeof inner === 'object' && depth < 5; depth++) {
    root = inner as { code?: unknown; message?: unknown };
    inner = (inner as { cause?: unknown }).cause;
  }
  if (root && typeof root.code === 'string' && !msg.includes(root.code)) msg += ` (${root.code})`;
  else if (root && typeof root.message === 'string' && root.message !== '' && !msg.includes(root.message))
    msg += ` (${root.message})`;
  return msg.replace(/\?[^\s)\]]*/g, '');
}

/**
 * `repeat: N` (or `repeat: duration`, until the run's deadline): the body N times, with
 * `{{i}}` (the innermost iteration, on top of `iterations`) counting from 1.
 */
export async function runRepeat(
  step: Extract<Step, { kind: 'repeat' }>,
  iterations: number[],
  deadline: number | null,
  runSteps: (steps: Step[]) => Promise<void>,
): Promise<void> {
  iterations.push(0);
  try {
    for (let i = 1; ; i++) {
      if (step.times === 'duration') {
        if (deadline === null || Date.now() >= deadline) break;
      } else if (i > step.times) break;
      iterations[iterations.length - 1] = i;
      await runSteps(step.steps);
    }
  } finally {
    iterations.pop();
  }
}

/**
 * A worker's record of its steps (counts, failures, whether it failed), and how one leaf
 * step is run and judged: the same for every kind of worker (CommCare phone, OpenRosa
 * collector). A failure is expected when the step allows it or the network simulator
 * caused it; an unexpected one stops the worker if the scenario says `on_error: stop`.
 */
export class StepTally {
  readonly failures: WorkerFailure[] = [];
  errors = 0;
  stepsRun = 0;
  unexpected = false;
  assertionsFailed = false;
  readonly #env: WorkerEnv;
  readonly #username: string;

  constructor(env: WorkerEnv, username: string) {
    this.#env = env;
    this.#username = username;
  }

  fail(step: Step, kind: string, message: string): void {
    if (this.failures.length < 20) this.failures.push({ step: step.path, kind, message });
  }

  outcome(): { ok: boolean; stepsRun: number; errors: number; failures: WorkerFailure[] } {
    return {
      ok: !this.unexpected && !this.assertionsFailed,
      stepsRun: this.stepsRun,
      errors: this.errors,
      failures: this.failures,
    };
  }

  async runLeaf(step: Step, net: { simulatedFailures: number }, exec: () => Promise<void>): Promise<void> {
    const m = this.#env.metrics;
    const simBefore = net.simulatedFailures;
    const t0 = performance.now();
    this.stepsRun++;
    try {
      await exec();
      m.step(step.kind, performance.now() - t0, 'ok');
    } catch (e) {
      const ms = performance.now() - t0;
      const message = messageOf(e);
      const simulated =
        e instanceof StepFailed
          ? e.simulated
          : isSimulated(e) || (isNetworkError(e) && net.simulatedFailures > simBefore);
      const expected = step.allowFailure || simulated;
      const shown = simulated && !message.includes('simulated') ? `${message} (simulated)` : message;
      this.errors++;
      m.step(step.kind, ms, expected ? 'expected-error' : 'error');
      m.error(step.kind, shown, expected, this.#username);
      if (expected) return;
      this.fail(step, step.kind, shown);
      if (e instanceof AssertionFailed) {
        this.assertionsFailed = true;
        return;
      }
      this.unexpected = true;
      if (this.#env.scenario.onError === 'stop') throw new WorkerStopped();
    }
  }
}

export class SimWorker {
  readonly spec: WorkerSpec;
  readonly #env: WorkerEnv;
  readonly #rng: Prng;
  readonly #net: NetworkSim;
  readonly #outboxRng: Prng;
  /** This worker's phone database (worker-store.ts), opened at its first login. */
  #store: WorkerStore | null = null;
  readonly #lock = createInProcessLock();
  #session: Session | null = null;
  #lastCreated: string | null = null;
  readonly #iterations: number[] = [];
  /** When the last sync or send finished (assert_server wants a server view newer than that). */
  #lastAckAt = 0;
  readonly #tally: StepTally;

  constructor(spec: WorkerSpec, env: WorkerEnv) {
    this.#tally = new StepTally(env, spec.username);
    this.spec = spec;
    this.#env = env;
    const seed = env.scenario.seed;
    this.#rng = new Prng(seed, 'worker', spec.number, 'steps');
    // Separate streams, so the number of requests (which varies with timing, e.g. a
    // background send) never shifts the placeholders' values.
    this.#net = new NetworkSim(env.baseFetch, new Prng(seed, 'worker', spec.number, 'network'), (s) =>
      env.metrics.request(s),
    );
    this.#outboxRng = new Prng(seed, 'worker', spec.number, 'outbox');
  }

  #ctx(): TemplateContext {
    return {
      worker: this.spec.number,
      user: this.spec.username,
      shard: this.#env.shard,
      iterations: this.#iterations,
      rng: this.#rng,
      today: () => new Date().toISOString().slice(0, 10),
    };
  }

  #render(props: Props): Record<string, string> {
    const ctx = this.#ctx();
    const out: Record<string, string> = {};
    for (const [k, t] of props) out[k] = t.render(ctx);
    return out;
  }

  #requireSession(): Session {
    if (!this.#session) throw new StepFailed('Not logged in (add a login step first)', false);
    return this.#session;
  }

  run(): Promise<WorkerResult> {
    return runWorkerLifecycle(this.#env.metrics, this.spec, {
      runSteps: () => this.#runSteps(this.#env.scenario.steps),
      sentCount: () => this.#session?.outboxCounts().then((c) => c.sent),
      close: () => {
        this.#session?.close();
        this.#session = null;
        this.#store?.close();
        this.#store = null;
      },
      outcome: () => this.#tally.outcome(),
    });
  }

  async #runSteps(steps: Step[]): Promise<void> {
    for (const step of steps) {
      if (this.#env.signal.aborted) {
        this.#tally.fail(step, 'interrupted', 'The run was interrupted');
        throw new WorkerStopped();
      }
      switch (step.kind) {
        case 'repeat':
          await runRepeat(step, this.#iterations, this.#env.deadline, (steps) => this.#runSteps(steps));
          break;
        case 'mix': {
          const b = step.branches[this.#rng.weighted(step.branches.map((x) => x.weight))];
          if (b) await this.#runSteps(b.steps);
          break;
        }
        default:
          await this.#runLeaf(step);
      }
    }
  }

  #runLeaf(step: Step): Promise<void> {
    return this.#tally.runLeaf(step, this.#net, () => this.#exec(step));
  }

  async #exec(step: Step): Promise<void> {
    switch (step.kind) {
      case 'login':
        return this.#login();
      case 'restore':
        return this.#restore(step.retries, step.retryWaitMs);
      case 'sync':
      case 'send':
        return this.#syncOrSend(step.kind, step.retries, step.retryWaitMs);
      case 'offline':
        this.#net.online = false;
        return;
      case 'online':
        this.#net.online = true;
        // Like the PWA's `online` event: the outbox tries at once, in the background.
        if (this.#session) void this.#session.outbox.onOnline();
        return;
      case 'network':
        this.#net.latencyMs = step.latencyMs;
        this.#net.jitterMs = step.jitterMs;
        this.#net.fail = step.fail;
        return;
      case 'wait':
        return sleep(step.minMs + this.#rng.next() * (step.maxMs - step.minMs), this.#env.signal);
      case 'create_case': {
        const s = this.#requireSession();
        const ctx = this.#ctx();
        const parent = step.parent ? await this.#resolveCase(step.parent, step.parentType) : undefined;
        const owner = step.owner?.render(ctx);
        const { caseId } = await s.registerCase({
          caseType: step.caseType.render(ctx),
          caseName: step.name.render(ctx),
          properties: this.#render(step.properties),
          ...(owner ? { ownerId: owner } : {}),
          ...(parent ? { parent: { caseId: parent.caseId, caseType: parent.caseType } } : {}),
        });
        this.#lastCreated = caseId;
        return;
      }
      case 'update_case': {
        const s = this.#requireSession();
        const target = await this.#resolveCase(step.case, step.caseType);
        const name = step.name?.render(this.#ctx());
        await s.updateCase({
          caseId: target.caseId,
          properties: this.#render(step.properties),
          ...(name ? { caseName: name } : {}),
        });
        return;
      }
      case 'close_case': {
        const s = this.#requireSession();
        const target = await this.#resolveCase(step.case, step.caseType);
        await s.closeCase({ caseId: target.caseId, properties: this.#render(step.properties) });
        return;
      }
      case 'submit_form':
        return this.#submitForm(step);
      case 'assert_local':
        return this.#assertLocal(step);
      case 'assert_server':
        return this.#assertServer(step);
      case 'assert_forwarded':
        return this.#assertForwarded(step);
      case 'repeat':
      case 'mix':
        throw new Error(`${step.kind} is not a leaf step`);
    }
  }

  async #login(): Promise<void> {
    this.#session?.close();
    this.#session = null;
    const { scenario, serverUrl } = this.#env;
    this.#store ??= await openWorkerStore(runnerStoreKind());
    this.#session = await login({
      serverUrl,
      domain: scenario.domain,
      username: this.spec.username,
      password: this.spec.password,
      // The scenario says when to restore (`restore`, or the first `sync`).
      restore: 'never',
      platform: {
        indexedDB: this.#store.deps,
        fetch: this.#net.fetch,
        isOnline: () => this.#net.online,
        lock: this.#lock,
        random: this.#outboxRng.fn(),
        pbkdf2Iterations: SIMULATION_PBKDF2_ITERATIONS,
      },
      // Steps drive sending (sync, send, online, and the save trigger); no timers left
      // behind when a worker finishes.
      outbox: { autoRetry: false },
    });
  }

  /** A full restore; `retries` more attempts after a network or retryable server failure. */
  async #restore(retries: number, waitMs: number): Promise<void> {
    const s = this.#requireSession();
    const slots = this.#env.restoreSlots;
    for (let attempt = 0; ; attempt++) {
      try {
        await (slots ? slots.run(() => s.restore()) : s.restore());
        return;
      } catch (e) {
        const retryable = isNetworkError(e) || (isFieldsimError(e) && e.retryable);
        if (attempt >= retries || !retryable) throw e;
      }
      await sleep(waitMs, this.#env.signal);
    }
  }

  async #syncOrSend(kind: 'sync' | 'send', retries: number, waitMs: number): Promise<void> {
    const s = this.#requireSession();
    for (let attempt = 0; ; attempt++) {
      const simBefore = this.#net.simulatedFailures;
      const last = attempt >= retries;
      try {
        if (kind === 'sync') {
          const r = await s.syncAndSend();
          if (r.restore !== null) {
            this.#lastAckAt = Date.now();
            return;
          }
          if (last) {
            const why = r.send.stoppedBy;
            throw new StepFailed(
              `${r.send.remaining} form(s) still unsent after ${attempt + 1} attempt(s)${why ? `: ${why.message} [${why.code}]` : ''}`,
              this.#net.simulatedFailures > simBefore,
            );
          }
        } else {
          const r = await s.sendOutbox();
          if (r.remaining === 0) {
            this.#lastAckAt = Date.now();
            return;
          }
          if (last) {
            const why = r.stoppedBy;
            throw new StepFailed(
              `${r.remaining} form(s) still unsent after ${attempt + 1} attempt(s)${why ? `: ${why.message} [${why.code}]` : ''}`,
              this.#net.simulatedFailures > simBefore,
            );
          }
        }
      } catch (e) {
        if (last || e instanceof StepFailed) throw e;
        // Retryable trouble on this attempt (network, 5xx during the sync): go round again.
        if (isFieldsimError(e) && !e.retryable && !isNetworkError(e)) throw e;
      }
      await sleep(waitMs, this.#env.signal);
    }
  }

  async #resolveCase(ref: CaseRef, caseType: string | undefined): Promise<CaseRecord> {
    const s = this.#requireSession();
    switch (ref.kind) {
      case 'last_created': {
        if (!this.#lastCreated)
          throw new StepFailed('No case created yet by this worker (last_created)', false);
        const c = await s.getCase(this.#lastCreated);
        if (!c)
          throw new StepFailed(
            `The last created case ${this.#lastCreated} is not in the local database`,
            false,
          );
        return c;
      }
      case 'random_open':
      case 'random': {
        const status = ref.kind === 'random_open' ? 'open' : 'all';
        const q = { status, ...(caseType ? { caseType } : {}) } as const;
        // One read: the offset is drawn once the list's length is known (same draws as a
        // count then a page, so a seed picks the same cases).
        const page = await s.listCases(
          { ...q, limit: 1 },
          { offsetFrom: (total) => (total === 0 ? 0 : this.#rng.int(0, total - 1)) },
        );
        if (page.total === 0)
          throw new StepFailed(
            `No ${status === 'open' ? 'open ' : ''}${caseType ?? ''} case to choose from`.replace(
              /\s+/g,
              ' ',
            ),
            false,
          );
        const c = page.cases[0];
        if (!c) throw new StepFailed('The case list changed while choosing a case', false);
        return c;
      }
      case 'id': {
        const id = ref.id.render(this.#ctx());
        const c = await s.getCase(id);
        if (!c) throw new StepFailed(`Case ${id} is not in the local database`, false);
        return c;
      }
    }
  }

  /** An answer for a question the scenario left out, from the worker's PRNG. */
  #autoAnswer(q: AppQuestion, form: AppForm): string {
    if (q.options.length > 0) return this.#rng.pick(q.options).value;
    switch (q.type) {
      case 'Int':
      case 'Long':
        return String(this.#rng.int(1, 9));
      case 'Double':
      case 'Decimal':
        return (this.#rng.next() * 100).toFixed(1);
      case 'Date':
        return new Date().toISOString().slice(0, 10);
      default: {
        const i = this.#iterations[this.#iterations.length - 1];
        return `${q.label || q.tag || form.xmlns} ${this.spec.username}${i ? `-${i}` : ''}`;
      }
    }
  }

  async #submitForm(step: Extract<Step, { kind: 'submit_form' }>): Promise<void> {
    const s = this.#requireSession();
    const services = this.#env.services();
    const { app: structure, module, form } = await services.findForm(step.form);
    const real = await services.realApp(structure.id);
    if (real !== null) return this.#submitRealForm(step, real, form.xmlns);
    const given = this.#render(step.answers);
    const answers: Answers = {};
    for (const q of form.questions) answers[q.tag] = given[q.tag] ?? this.#autoAnswer(q, form);
    for (const [k, v] of Object.entries(given)) answers[k] ??= v;
    const needsTarget = form.action === 'update' || form.action === 'close';
    const target =
      needsTarget || step.case
        ? await this.#resolveCase(
            step.case ?? { kind: 'random_open' },
            step.caseType ?? (module.caseType || undefined),
          )
        : undefined;
    let parent: CaseRecord | undefined;
    if (form.action === 'register-child' || step.parent) {
      parent = await this.#resolveCase(step.parent ?? { kind: 'random_open' }, step.parentType);
      if (!step.parent && !step.parentType && parent.caseType === module.caseType)
        throw new StepFailed(`${step.form} registers a child case: give parent_type (or parent)`, false);
    }
    const newCaseId = uuidv4();
    const draft = buildAppFormDraft({
      module,
      form,
      answers,
      newCaseId,
      ...(target ? { target } : {}),
      ...(parent ? { parent } : {}),
    });
    await s.saveForm(draft);
    if (form.action === 'register' || form.action === 'register-child') this.#lastCreated = newCaseId;
  }

  /**
   * `submit_form` on the app's real XForm: the entry that opens it, its case datums chosen
   * like a worker picking from the case list (the step's `case`/`parent` first, the rest at
   * random from each datum's own list), the step's answers (by question path or tag), every
   * other relevant required question generated (`--auto`), then saved like any form.
   */
  async #submitRealForm(
    step: Extract<Step, { kind: 'submit_form' }>,
    app: CommCareApp,
    xmlns: string,
  ): Promise<void> {
    const s = this.#requireSession();
    const entry = findEntry(app, xmlns);
    const device = await readDeviceData(s.db, {
      deviceId: s.info.deviceId,
      appVersion: `fieldsim runner, ${app.name} build ${app.version}`,
    });
    const given: string[] = [];
    if (step.case) given.push((await this.#resolveCase(step.case, step.caseType)).caseId);
    if (step.parent) given.push((await this.#resolveCase(step.parent, step.parentType)).caseId);
    const datums: Record<string, string> = {};
    for (const d of entry.datums) {
      if (d.kind !== 'entity') continue;
      const next = given.shift();
      if (next !== undefined) {
        datums[d.id] = next;
        continue;
      }
      const offered = datumValues(app, entry, d, {
        instance: instanceResolver(device, datums),
        user: device.user,
        sessionData: { ...datums },
      });
      if (offered.length === 0)
        throw new StepFailed(`${step.form}: no case to choose for ${d.id} (the case list is empty)`, false);
      datums[d.id] = this.#rng.pick(offered);
    }
    const result = fillAppForm({
      app,
      form: entry.commandId,
      device,
      datums,
      answers: this.#render(step.answers),
      auto: true,
      seed: this.#rng.int(1, 2 ** 31),
      random: this.#rng.fn(),
    });
    if (result.xml === undefined || result.instanceId === undefined)
      throw new StepFailed(
        `${step.form}: ${result.errors.map((i) => `${i.ref}: ${i.message} [${i.code}]`).join('; ')}`,
        false,
      );
    await s.saveFilledForm({ xml: result.xml, instanceId: result.instanceId, xmlns, name: result.form.name });
    for (const b of result.caseBlocks)
      if (b.actions.some((a) => a.kind === 'create')) {
        this.#lastCreated = b.caseId;
        break;
      }
  }

  #record(
    step: Step,
    kind: AssertionResult['kind'],
    check: string,
    ok: boolean,
    expected: string,
    actual: string,
  ) {
    this.#env.metrics.assertions.push({
      worker: this.spec.number,
      user: this.spec.username,
      step: step.path,
      kind,
      check,
      ok,
      expected,
      actual,
    });
  }

  async #sentIds(): Promise<string[]> {
    const s = this.#requireSession();
    return (await s.listOutbox(['sent'])).map((f) => f.instanceId);
  }

  async #assertLocal(step: Extract<Step, { kind: 'assert_local' }>): Promise<void> {
    const s = this.#requireSession();
    const failed: string[] = [];
    let counts: Awaited<ReturnType<Session['outboxCounts']>> | null = null;
    for (const c of step.checks) {
      let actual: number;
      if (c.what === 'cases') {
        actual = (
          await s.listCases({ status: c.status, limit: 0, ...(c.caseType ? { caseType: c.caseType } : {}) })
        ).total;
      } else {
        counts ??= await s.outboxCounts();
        actual = c.field === 'pending' ? counts.queued + counts.sending : counts[c.field];
      }
      const ok = c.checks.every((x) => compare(actual, x, 0));
      const expected = describeChecks(c.checks, 0);
      this.#record(step, 'assert_local', c.label, ok, expected, String(actual));
      if (!ok) failed.push(`${c.label}: expected ${expected}, got ${actual}`);
    }
    if (failed.length > 0) throw new AssertionFailed(`assert_local ${failed.join('; ')}`);
  }

  async #assertServer(step: Extract<Step, { kind: 'assert_server' }>): Promise<void> {
    const s = this.#requireSession();
    const services = this.#env.services();
    const { timeoutMs: defaultTimeout, intervalMs } = this.#env.scenario.assert;
    const deadline = Date.now() + (step.timeoutMs ?? defaultTimeout);
    const self = s.info.userId;
    const sentIds = step.forms ? await this.#sentIds() : [];
    let notBefore = this.#lastAckAt;
    for (;;) {
      const results: { check: string; ok: boolean; expected: string; actual: string }[] = [];
      if (step.cases) {
        const c = step.cases;
        const base = {
          ...(c.owner ? { owner_id: c.owner.kind === 'self' ? self : c.owner.id } : {}),
          ...(c.user ? { user_id: c.user.kind === 'self' ? self : c.user.id } : {}),
          ...(c.caseType ? { type: c.caseType } : {}),
        };
        for (const x of c.counts) {
          const actual = await services.countCases(
            x.field === 'total' ? base : { ...base, closed: x.field === 'closed' },
          );
          results.push({
            check: `cases.${x.field}`,
            ok: x.checks.every((k) => compare(actual, k, sentIds.length)),
            expected: describeChecks(x.checks, sentIds.length),
            actual: String(actual),
          });
        }
      }
      if (step.forms) {
        const f = step.forms;
        const userId = f.user.kind === 'self' ? self : f.user.id;
        const { ids, at } = await services.formsOfUser(userId, f.xmlns, notBefore);
        notBefore = at + 1;
        let ok = f.checks.every((k) => compare(ids.length, k, sentIds.length));
        let actual = String(ids.length);
        // `count: sent` also means exactly once each: every form this worker sent is on the
        // server, none twice (a lost answer followed by a resend must not duplicate).
        if (ok && f.checks.some((k) => k.value === 'sent' && k.op === '=') && f.xmlns === undefined) {
          const seen = new Map<string, number>();
          for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
          const missing = sentIds.filter((id) => !seen.has(id));
          const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
          if (missing.length > 0 || twice.length > 0) {
            ok = false;
            actual += ` (missing ${missing.length}, duplicated ${twice.length}${
              [...missing, ...twice].length > 0 ? `: ${[...missing, ...twice].slice(0, 3).join(', ')}` : ''
            })`;
          }
        }
        results.push({
          check: 'forms.count',
          ok,
          expected: describeChecks(f.checks, sentIds.length),
          actual,
        });
      }
      const done = results.every((r) => r.ok);
      if (done || Date.now() + intervalMs > deadline || this.#env.signal.aborted) {
        for (const r of results) this.#record(step, 'assert_server', r.check, r.ok, r.expected, r.actual);
        if (done) return;
        throw new AssertionFailed(
          `assert_server ${results
            .filter((r) => !r.ok)
            .map((r) => `${r.check}: expected ${r.expected}, got ${r.actual}`)
            .join('; ')}`,
        );
      }
      await sleep(intervalMs, this.#env.signal);
    }
  }

  /**
   * `assert_forwarded` (issue 14): every form this worker sent (by the count checks) reached
   * the run's forwarding sink, once, within `within` of its ack. Waits up to `within` for
   * stragglers; each arrival's latency (ack → sink) goes to the `forwarding` row.
   */
  async #assertForwarded(step: Extract<Step, { kind: 'assert_forwarded' }>): Promise<void> {
    const s = this.#requireSession();
    const watch = await this.#env.services().forwarding();
    const started = Date.now();
    const sent = (await s.listOutbox(['sent'])).map((f) => ({
      id: f.instanceId,
      ackAt: f.sentAt ?? started,
    }));
    const deadline = started + step.withinMs;
    const exactlySent = step.checks.some((k) => k.value === 'sent' && k.op === '=');
    let arrived = 0;
    for (;;) {
      arrived = sent.filter((f) => watch.arrivedAt(f.id) !== undefined).length;
      if (step.checks.every((k) => compare(arrived, k, sent.length))) break;
      if (Date.now() >= deadline || this.#env.signal.aborted) break;
      await sleep(Math.min(50, deadline - Date.now()), this.#env.signal);
    }
    const latencies: number[] = [];
    for (const f of sent) {
      const at = watch.arrivedAt(f.id);
      if (at === undefined) continue;
      const ms = Math.max(0, at - f.ackAt);
      latencies.push(ms);
      this.#env.metrics.latency('forwarding', ms);
    }
    latencies.sort((a, b) => a - b);
    const late = latencies.filter((ms) => ms > step.withinMs).length;
    const twice = exactlySent ? sent.filter((f) => watch.times(f.id) > 1).length : 0;
    const ok = step.checks.every((k) => compare(arrived, k, sent.length)) && late === 0 && twice === 0;
    const max = latencies.at(-1);
    const p50 = latencies[Math.floor((latencies.length - 1) / 2)];
    let actual = `${arrived} forwarded`;
    if (max !== undefined) actual += ` (latency p50 ${Math.round(p50 ?? 0)} ms, max ${Math.round(max)} ms)`;
    if (late > 0) actual += `, ${late} later than ${step.withinMs} ms`;
    if (twice > 0) actual += `, ${twice} forwarded more than once`;
    const expected = `${describeChecks(step.checks, sent.length)} within ${step.withinMs} ms`;
    this.#record(step, 'assert_forwarded', 'forms.forwarded', ok, expected, actual);
    if (!ok)
      throw new AssertionFailed(`assert_forwarded forms.forwarded: expected ${expected}, got ${actual}`);
  }
}
