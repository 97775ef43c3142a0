import { Prng } from '../../core/lib/prng.ts';
import { fillXForm, toComposedForm } from '../../core/openrosa/fill-xform.ts';
import type { FormListEntry } from '../../core/openrosa/form-list.ts';
import { OpenRosaClient } from '../../core/openrosa/openrosa-client.ts';
import { openRosaEndpoints } from '../../core/openrosa/openrosa-server-url.ts';
import { type CaseApplier, Outbox } from '../../core/outbox/outbox.ts';
import { installStrictOutboxDurability } from '../../core/outbox/outbox-store.ts';
import { createInProcessLock } from '../../core/platform.ts';
import { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import type { FormDef } from '../../core/xforms/form-def.ts';
import { parseXForm } from '../../core/xforms/form-session.ts';
import type { WorkerResult } from './metrics.ts';
import { NetworkSim } from './network-sim.ts';
import type { Step } from './scenario-types.ts';
import {
  AssertionFailed,
  compare,
  describeChecks,
  runRepeat,
  StepFailed,
  StepTally,
  sleep,
  type WorkerEnv,
  type WorkerSpec,
  WorkerStopped,
} from './worker.ts';
import { runWorkerLifecycle } from './worker-lifecycle.ts';
import { openWorkerStore, runnerStoreKind, type WorkerStore } from './worker-store.ts';

/**
 * One simulated ODK Collect for an `openrosa:` scenario (a generic OpenRosa server: ODK
 * Central, Aggregate, Kobo). It has what Collect has and no more: a form list, forms filled
 * with the XForm engine, and a persistent outbox (the core `Outbox` on its own in-memory
 * database, worker-store.ts, sending through `OpenRosaClient`). Steps: login (reads the
 * form list: the credentials are checked there), submit_form (`form:` is a formID), send,
 * assert_local (outbox counts), and the network/wait/repeat/mix steps every scenario has.
 * The CommCare steps (restore, sync, cases, assert_server) are refused when the scenario
 * is read.
 *
 * Failure rules are the HQ worker's: a step that throws or leaves forms unsent fails,
 * expected when `allow_failure` or the worker's own simulated network caused it.
 */

/** A generic server has no cases: forms carry no case blocks to apply. */
const NO_CASES: CaseApplier = { tables: () => [], applyBlocks: async () => {} };

let dbCounter = 0;

export class OpenRosaSimWorker {
  readonly spec: WorkerSpec;
  readonly #env: WorkerEnv;
  readonly #url: string;
  readonly #rng: Prng;
  readonly #net: NetworkSim;
  readonly #outboxRng: Prng;
  #client: OpenRosaClient | null = null;
  #db: FieldsimDb | null = null;
  #store: WorkerStore | null = null;
  #outbox: Outbox | null = null;
  #forms = new Map<string, FormListEntry>();
  /** Parsed once per worker: parsing is most of a fill's CPU, and a FormDef is read-only. */
  readonly #xforms = new Map<string, FormDef>();
  readonly #iterations: number[] = [];
  readonly #tally: StepTally;

  constructor(spec: WorkerSpec, env: WorkerEnv, url: string) {
    this.#tally = new StepTally(env, spec.username);
    this.spec = spec;
    this.#env = env;
    this.#url = url;
    const seed = env.scenario.seed;
    this.#rng = new Prng(seed, 'worker', spec.number, 'steps');
    this.#net = new NetworkSim(env.baseFetch, new Prng(seed, 'worker', spec.number, 'network'), (s) =>
      env.metrics.request(s),
    );
    this.#outboxRng = new Prng(seed, 'worker', spec.number, 'outbox');
  }

  run(): Promise<WorkerResult> {
    return runWorkerLifecycle(this.#env.metrics, this.spec, {
      runSteps: () => this.#runSteps(this.#env.scenario.steps),
      sentCount: () => this.#outbox?.counts().then((c) => c.sent),
      close: () => this.#close(),
      outcome: () => this.#tally.outcome(),
    });
  }

  #close(): void {
    this.#outbox?.close();
    this.#db?.close();
    this.#store?.close();
    this.#outbox = null;
    this.#db = null;
    this.#store = null;
  }

  async #runSteps(steps: Step[]): Promise<void> {
    for (const step of steps) {
      if (this.#env.signal.aborted) {
        this.#tally.fail(step, 'interrupted', 'The run was interrupted');
        throw new WorkerStopped();
      }
      if (step.kind === 'repeat')
        await runRepeat(step, this.#iterations, this.#env.deadline, (steps) => this.#runSteps(steps));
      else if (step.kind === 'mix') {
        const b = step.branches[this.#rng.weighted(step.branches.map((x) => x.weight))];
        if (b) await this.#runSteps(b.steps);
      } else await this.#runLeaf(step);
    }
  }

  #runLeaf(step: Step): Promise<void> {
    return this.#tally.runLeaf(step, this.#net, () => this.#exec(step));
  }

  #requireOutbox(): Outbox {
    if (!this.#outbox) throw new StepFailed('Not logged in (add a login step first)', false);
    return this.#outbox;
  }

  async #exec(step: Step): Promise<void> {
    switch (step.kind) {
      case 'login':
        return this.#login();
      case 'send':
        return this.#send(step.retries, step.retryWaitMs);
      case 'offline':
        this.#net.online = false;
        return;
      case 'online':
        this.#net.online = true;
        if (this.#outbox) void this.#outbox.onOnline();
        return;
      case 'network':
        this.#net.latencyMs = step.latencyMs;
        this.#net.jitterMs = step.jitterMs;
        this.#net.fail = step.fail;
        return;
      case 'wait':
        return sleep(step.minMs + this.#rng.next() * (step.maxMs - step.minMs), this.#env.signal);
      case 'submit_form':
        return this.#submitForm(step);
      case 'assert_local':
        return this.#assertLocal(step);
      default:
        // parse-scenario refuses these for openrosa scenarios; a guard for direct callers.
        throw new StepFailed(
          `${step.kind} is a CommCare step, not available against an OpenRosa server`,
          false,
        );
    }
  }

  /**
   * Reads the form list with the worker's credentials (Basic; none for an app-user link),
   * which is where a wrong password shows, and opens the worker's outbox. Like the
   * HQ worker's login, a second login starts from a fresh device.
   */
  async #login(): Promise<void> {
    this.#close();
    // An app-user link carries its credential; the users' names then only label workers.
    const basic = openRosaEndpoints(this.#url).appUserToken === undefined;
    const client = new OpenRosaClient({
      url: this.#url,
      ...(basic ? { username: this.spec.username, password: this.spec.password } : {}),
      deviceId: `fieldsim:${this.#env.scenario.seed}:${this.spec.number}`,
      fetch: this.#net.fetch,
    });
    const list = await client.formList();
    this.#forms = new Map(list.map((f) => [f.formId, f]));
    // The outbox lives where an HQ worker's database does (FIELDSIM_RUNNER_STORE).
    const store = await openWorkerStore(runnerStoreKind());
    this.#store = store;
    const db = new FieldsimDb(`fieldsim-openrosa-${++dbCounter}`, store.deps);
    installStrictOutboxDurability(db);
    this.#client = client;
    this.#db = db;
    this.#outbox = new Outbox({
      db,
      cases: NO_CASES,
      lock: createInProcessLock(),
      sender: client,
      random: this.#outboxRng.fn(),
      isOnline: () => this.#net.online,
      autoRetry: false,
      preflight: true,
    });
  }

  async #xform(formId: string): Promise<FormDef> {
    const cached = this.#xforms.get(formId);
    if (cached !== undefined) return cached;
    const entry = this.#forms.get(formId);
    if (entry === undefined)
      throw new StepFailed(
        `the form list has no form "${formId}" (it has: ${[...this.#forms.keys()].join(', ') || 'none'})`,
        false,
      );
    if (!this.#client) throw new StepFailed('Not logged in (add a login step first)', false);
    const def = parseXForm(await this.#client.downloadForm(entry));
    this.#xforms.set(formId, def);
    return def;
  }

  /**
   * Fills the form (the step's answers, the rest answered automatically as `--auto` does),
   * queues it, and lets the outbox try at once as a save does on the phone.
   */
  async #submitForm(step: Extract<Step, { kind: 'submit_form' }>): Promise<void> {
    const outbox = this.#requireOutbox();
    const xform = await this.#xform(step.form);
    const ctx = {
      worker: this.spec.number,
      user: this.spec.username,
      shard: this.#env.shard,
      iterations: this.#iterations,
      rng: this.#rng,
      today: () => new Date().toISOString().slice(0, 10),
    };
    const answers: Record<string, string> = {};
    for (const [k, t] of step.answers) answers[k] = t.render(ctx);
    const r = fillXForm({
      form: xform,
      answers,
      auto: true,
      seed: this.#rng.int(0, 2 ** 31 - 1),
      deviceId: this.#client?.deviceId ?? '',
      username: this.spec.username,
    });
    if (!r.ok)
      throw new StepFailed(`${step.form}: ${r.errors.map((e) => `${e.ref} ${e.message}`).join('; ')}`, false);
    await outbox.enqueue(toComposedForm(r));
    void outbox.trigger('save');
  }

  async #send(retries: number, waitMs: number): Promise<void> {
    const outbox = this.#requireOutbox();
    for (let attempt = 0; ; attempt++) {
      const simBefore = this.#net.simulatedFailures;
      const r = await outbox.send();
      if (r.remaining === 0) return;
      if (attempt >= retries) {
        const why = r.stoppedBy;
        throw new StepFailed(
          `${r.remaining} form(s) still unsent after ${attempt + 1} attempt(s)${why ? `: ${why.message} [${why.code}]` : ''}`,
          this.#net.simulatedFailures > simBefore,
        );
      }
      // Credentials refused (401/403): no later attempt fares better.
      if (outbox.paused !== null) {
        const p = outbox.paused;
        throw new StepFailed(`the outbox is paused: ${p.message} [${p.code}]`, false);
      }
      await sleep(waitMs, this.#env.signal);
    }
  }

  async #assertLocal(step: Extract<Step, { kind: 'assert_local' }>): Promise<void> {
    const outbox = this.#requireOutbox();
    const counts = await outbox.counts();
    const failed: string[] = [];
    for (const c of step.checks) {
      if (c.what !== 'outbox') throw new StepFailed('an OpenRosa device has no cases to count', false);
      const actual = c.field === 'pending' ? counts.queued + counts.sending : counts[c.field];
      const ok = c.checks.every((x) => compare(actual, x, 0));
      const expected = describeChecks(c.checks, 0);
      this.#env.metrics.assertions.push({
        worker: this.spec.number,
        user: this.spec.username,
        step: step.path,
        kind: 'assert_local',
        check: c.label,
        ok,
        expected,
        actual: String(actual),
      });
      if (!ok) failed.push(`${c.label}: expected ${expected}, got ${actual}`);
    }
    if (failed.length > 0) throw new AssertionFailed(`assert_local ${failed.join('; ')}`);
  }
}
