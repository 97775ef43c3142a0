import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/cli/runner/report.ts';
import { Prng } from '../../src/core/lib/prng.ts';
import { runCli } from '../helpers/run-cli.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * `fieldsim run` and `fieldsim report merge` end to end (issue 7): the real entry point
 * (bin/fieldsim.js, what `npx fieldsim` runs) in child processes against the emulator on
 * a free loopback port, checking exit codes, the JSON report and the JUnit file. Child
 * processes run asynchronously: the emulator answers from this process's event loop.
 */

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-runner-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let hq: StartedEmulator | undefined;
afterEach(async () => {
  await hq?.close();
  hq = undefined;
});

const ADMIN = ['--admin-user', 'admin@example.com', '--admin-api-key', 'fieldsim-demo-key'];

const cli = runCli;

/** `fieldsim run <scenario>` against the running emulator as the demo admin, plus `args`. */
function runScenario(scenario: string, args: string[]) {
  if (!hq) throw new Error('start the emulator first');
  return cli(['run', scenario, '--server', hq.url, ...ADMIN, ...args]);
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const readReport = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as RunReport;

describe('fieldsim run', () => {
  it('runs the smoke example: exit 0, every assertion held, reports written', async () => {
    hq = await startEmulator();
    const json = join(tmp, 'smoke.json');
    const xml = join(tmp, 'smoke.xml');
    const r = await runScenario(join(EXAMPLES, 'smoke.yaml'), ['--report-json', json, '--junit', xml]);
    expect(r.stderr).toContain('workers 0 active, 2/2 done');
    expect(r.stdout).toContain('PASS (exit 0)');
    expect(r.status).toBe(0);
    const report = readReport(json);
    expect(report).toMatchObject({
      format: 'fieldsim-run-report',
      version: 1,
      ok: true,
      exitCode: 0,
      scenario: { name: 'smoke', domain: 'demo', seed: '42' },
      workers: { planned: 2, ok: 2, completed: 2, formsSent: 16 },
      assertions: { failed: 0 },
    });
    expect(report.assertions.passed).toBeGreaterThanOrEqual(14);
    expect(report.steps.create_case?.count).toBe(6);
    expect(report.steps.submit_form).toMatchObject({ count: 2, errors: 0 });
    expect(report.requests.receiver?.statuses).toEqual({ 201: 16 });
    expect(report.steps.login?.p50Ms).toBeGreaterThan(0);
    expect(report.throughput?.forms).toBe(16);
    expect(report.throughput?.formsPerSec).toBeGreaterThan(0);
    expect(report.timeline?.samples.reduce((n, s) => n + s.forms, 0)).toBe(16);
    expect(r.stdout).toMatch(/Throughput: [\d.]+ forms\/s, [\d.]+ requests\/s \(16 forms accepted/);
    const junit = readFileSync(xml, 'utf8');
    expect(junit).toContain('<testsuite name="smoke" tests="2" failures="0"');
    expect(junit).toContain('name="worker 1 (worker1)"');
    expect(junit).not.toContain('<failure');
    // The server really has the cases the workers registered.
    const db = hq.app.db;
    const n = db.prepare("SELECT COUNT(*) AS n FROM cases WHERE name LIKE 'Smoke %'").get() as { n: number };
    expect(n.n).toBe(6);
  }, 120_000);

  it('spreads one run over two processes and merges their reports into one', async () => {
    hq = await startEmulator();
    const json = join(tmp, 'smoke-2p.json');
    const r = await runScenario(join(EXAMPLES, 'smoke.yaml'), ['--processes', '2', '--report-json', json]);
    expect(r.stdout).toContain('2 shards merged');
    expect(r.stdout).toContain('PASS (exit 0)');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('2/2 done');
    const report = readReport(json);
    expect(report.shards).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ]);
    expect(report.workers).toMatchObject({ planned: 2, ok: 2, formsSent: 16 });
    expect(report.workerResults.map((w) => w.user)).toEqual(['worker1', 'worker2']);
    expect(report.throughput?.forms).toBe(16);
    expect(report.assertions.failed).toBe(0);
  }, 120_000);

  it('runs the load example small: users created through the API, mix and duration loop, exit 0', async () => {
    hq = await startEmulator();
    const json = join(tmp, 'load.json');
    const r = await runScenario(join(EXAMPLES, 'load.yaml'), [
      '--workers',
      '3',
      '--duration',
      '4s',
      '--report-json',
      json,
      '--no-progress',
    ]);
    expect(r.stdout).toContain('PASS (exit 0)');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('users: 3 created, 0 already existed');
    const report = readReport(json);
    expect(report.workers).toMatchObject({ planned: 3, ok: 3 });
    expect(report.steps.wait?.count).toBeGreaterThan(0);
    expect(report.assertions.byCheck['assert_server forms.count']).toEqual({ passed: 3, failed: 0 });
    const users = hq.app.db
      .prepare("SELECT COUNT(*) AS n FROM users WHERE username LIKE 'qa-load%'")
      .get() as { n: number };
    expect(users.n).toBe(3);

    // A rerun reuses the three users: HQ's 400 "already taken" is not an error of the run.
    const again = await runScenario(join(EXAMPLES, 'load.yaml'), [
      '--workers',
      '3',
      '--duration',
      '1s',
      '--report-json',
      json,
      '--no-progress',
    ]);
    expect(again.stderr).toContain('users: 0 created, 3 already existed');
    const rerun = readReport(json);
    expect(rerun.requests.api?.statuses?.['400']).toBe(3);
    expect(rerun.requests.api?.errors).toBe(0);
  }, 180_000);

  it('exits 1 when an assertion fails, and says which in the summary, the JSON and the JUnit file', async () => {
    hq = await startEmulator();
    const scenario = file(
      'failing.yaml',
      `name: failing
domain: demo
workers: { count: 1, users: { list: [worker1], password: fieldsim } }
assert: { timeout: 1s, interval: 200ms }
steps:
  - login
  - restore
  - create_case: { type: household, name: "Only one" }
  - sync
  - assert_local: { outbox: { sent: 1 } }
  - assert_server: { cases: { owner: self, type: household, open: 999 } }
`,
    );
    const json = join(tmp, 'failing.json');
    const xml = join(tmp, 'failing.xml');
    const r = await runScenario(scenario, ['--report-json', json, '--junit', xml]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Assertions: 1 held, 1 failed');
    expect(r.stdout).toContain('FAIL (exit 1)');
    const report = readReport(json);
    expect(report.ok).toBe(false);
    expect(report.assertions.failures).toEqual([
      expect.objectContaining({
        user: 'worker1',
        step: 'steps[5]',
        check: 'cases.open',
        expected: '999',
        ok: false,
      }),
    ]);
    expect(readFileSync(xml, 'utf8')).toMatch(
      /<failure message="assert_server: assert_server cases.open: expected 999, got \d+" type="assertion">/,
    );
  }, 120_000);

  it('exits 2 for a bad scenario, naming the path, before touching the server', async () => {
    const scenario = file(
      'bad.yaml',
      `name: bad
domain: demo
workers: { count: 1, users: { list: [worker1], password: fieldsim } }
steps:
  - login
  - restore
  - sync
  - create_case: { name: "no type" }
  - fly
`,
    );
    const r = await cli(['run', scenario, '--server', 'http://127.0.0.1:9']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('steps[3].create_case.type: required');
    expect(r.stderr).toContain('steps[4]: unknown step "fly"');
    const flags = await cli(['run', scenario, '--shard', '3/2']);
    expect(flags.status).toBe(2);
    expect(flags.stderr).toContain('--shard must be i/n');
  });

  it('keeps exactly-once when the server injects faults: every sent form stored once', async () => {
    const rng = new Prng('faults');
    hq = await startEmulator({
      faults: { error500: 0.2, error429: 0.1, dropAfterStore: 0.25, latencyMs: 0 },
      random: () => rng.next(),
    });
    const scenario = file(
      'faults.yaml',
      `name: faults
domain: demo
seed: 3
workers: { count: 4, users: { prefix: fault, password: fault-pass-1, create: true } }
steps:
  - login
  - offline
  - repeat: 5
    steps:
      - create_case: { type: household, name: "F {{user}} {{i}}" }
      - update_case: { case: last_created, properties: { visit: "{{i}}" } }
  - online
  - send: { retries: 200, retry_wait: 20ms }
  - assert_local: { outbox: { pending: 0, quarantined: 0, sent: 10 } }
  - assert_server: { forms: { user: self, count: sent }, cases: { owner: self, type: household, open: 5 } }
`,
    );
    const json = join(tmp, 'faults.json');
    const r = await runScenario(scenario, ['--report-json', json, '--no-progress']);
    expect(r.stdout).toContain('PASS (exit 0)');
    expect(r.status).toBe(0);
    const report = readReport(json);
    expect(report.workers.formsSent).toBe(40);
    // The faults did happen: 500s, 429s and answers lost after the form was stored.
    const statuses = report.requests.receiver?.statuses ?? {};
    expect(statuses['500']).toBeGreaterThan(0);
    expect(statuses['0']).toBeGreaterThan(0);
    const db = hq.app.db;
    const forms = db
      .prepare(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT form_id) AS ids FROM forms
         WHERE state = 'normal' AND user_id IN (SELECT id FROM users WHERE username LIKE 'fault%')`,
      )
      .get() as { n: number; ids: number };
    expect(forms).toEqual({ n: 40, ids: 40 });
  }, 180_000);

  it('runs shards with disjoint users and merges their reports into one summary and one JUnit file', async () => {
    hq = await startEmulator();
    const scenario = file(
      'sharded.yaml',
      `name: sharded
domain: demo
seed: 9
workers: { count: 5, users: { prefix: shard-qa, password: shard-pass-1, create: true } }
steps:
  - login
  - restore
  - create_case: { type: household, name: "S {{user}} {{pick a b}}" }
  - sync
  - assert_server: { forms: { user: self, count: sent } }
`,
    );
    const parts = await Promise.all(
      [1, 2].map((i) =>
        cli([
          'run',
          scenario,
          '--server',
          hq?.url ?? '',
          ...ADMIN,
          '--shard',
          `${i}/2`,
          '--report-json',
          join(tmp, `shard-${i}.json`),
          '--no-progress',
        ]),
      ),
    );
    expect(parts.map((p) => p.status)).toEqual([0, 0]);
    expect(readReport(join(tmp, 'shard-1.json')).workerResults.map((w) => w.user)).toEqual([
      'shard-qa1',
      'shard-qa3',
      'shard-qa5',
    ]);
    expect(readReport(join(tmp, 'shard-2.json')).workerResults.map((w) => w.user)).toEqual([
      'shard-qa2',
      'shard-qa4',
    ]);
    const merged = join(tmp, 'merged.json');
    const xml = join(tmp, 'merged.xml');
    const m = await cli([
      'report',
      'merge',
      join(tmp, 'shard-1.json'),
      join(tmp, 'shard-2.json'),
      '--report-json',
      merged,
      '--junit',
      xml,
    ]);
    expect(m.status).toBe(0);
    expect(m.stdout).toContain('2 shards merged');
    const report = readReport(merged);
    expect(report.workers).toMatchObject({ planned: 5, ok: 5, formsSent: 5 });
    expect(report.steps.create_case?.count).toBe(5);
    expect(readFileSync(xml, 'utf8')).toContain('<testsuite name="sharded" tests="5" failures="0"');
    const notReport = file('not-a-report.json', '{"hello": 1}');
    const bad = await cli(['report', 'merge', notReport]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not a fieldsim run report');
  }, 180_000);
});
