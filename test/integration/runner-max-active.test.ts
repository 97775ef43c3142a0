import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSetupError, runScenario } from '../../src/cli/runner/engine.ts';
import { parseScenario } from '../../src/cli/runner/parse-scenario.ts';
import { buildReport, type RunReport } from '../../src/cli/runner/report.ts';
import { runCli } from '../helpers/run-cli.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * `--max-active N` (RunOptions.maxActive): a batch run of many workers keeps at most N
 * alive at once (each holds its phone database from login to end); the others wait their
 * turn, and every one of them still runs all its steps.
 */

let hq: StartedEmulator;
beforeAll(async () => {
  hq = await startEmulator();
});
afterAll(async () => {
  await hq.close();
});

const ADMIN = { username: 'admin@example.com', apiKey: 'fieldsim-demo-key' };

describe('runner --max-active', () => {
  it('runs every worker, never more than N at once', async () => {
    const scenario = parseScenario(`
name: max-active
domain: demo
seed: 5
workers: { count: 7, users: { prefix: act, password: fieldsim-act-1, create: true } }
steps:
  - login
  - restore
  - create_case: { type: household, name: "A {{worker}}" }
  - sync
  - assert_local: { outbox: { pending: 0, sent: 1 } }
`);
    const report = buildReport(
      scenario,
      await runScenario(scenario, { serverUrl: hq.url, admin: ADMIN, maxActive: 2 }),
    );
    expect(report.ok).toBe(true);
    expect(report.workers).toMatchObject({ planned: 7, ok: 7, completed: 7, formsSent: 7 });
    // At each worker's start, count the workers whose run spans that instant.
    const spans = report.workerResults.map((w) => [w.startedAtMs, w.startedAtMs + w.durationMs] as const);
    const overlap = Math.max(...spans.map(([t]) => spans.filter(([a, b]) => a <= t && t < b).length));
    expect(overlap).toBeLessThanOrEqual(2);
    // They did take turns: the last started after the first ended.
    const firstEnd = Math.min(...spans.map(([, b]) => b));
    expect(Math.max(...spans.map(([a]) => a))).toBeGreaterThanOrEqual(firstEnd);
  });

  it('bounds a batch run by itself (autoMaxActive) and leaves a run with a duration alone', async () => {
    const batch = parseScenario(`
name: auto-active
domain: demo
seed: 7
workers: { count: 5, users: { prefix: act, password: fieldsim-act-1, create: true } }
steps:
  - login
  - create_case: { type: household, name: "B {{worker}}" }
  - sync
`);
    const report = buildReport(
      batch,
      await runScenario(batch, { serverUrl: hq.url, admin: ADMIN, autoMaxActive: 2 }),
    );
    expect(report.workers).toMatchObject({ planned: 5, ok: 5, formsSent: 5 });
    const spans = report.workerResults.map((w) => [w.startedAtMs, w.startedAtMs + w.durationMs] as const);
    const overlap = Math.max(...spans.map(([t]) => spans.filter(([a, b]) => a <= t && t < b).length));
    expect(overlap).toBeLessThanOrEqual(2);
    // A soak keeps every worker running until its end: no automatic bound, no setup error.
    const soak = parseScenario(`
name: auto-soak
domain: demo
duration: 300ms
workers: { count: 3, users: { prefix: act, password: fieldsim-act-1 } }
steps:
  - login
  - repeat: duration
    steps:
      - wait: 50ms
`);
    const soakReport = buildReport(soak, await runScenario(soak, { serverUrl: hq.url, autoMaxActive: 1 }));
    expect(soakReport.workers).toMatchObject({ planned: 3, ok: 3 });
  });

  it('refuses a limit below the workers for a scenario that runs for a duration', async () => {
    const scenario = parseScenario(`
name: soak
domain: demo
duration: 2s
workers: { count: 3, users: { prefix: act, password: fieldsim-act-1 } }
steps:
  - login
  - repeat: duration
    steps:
      - wait: 100ms
`);
    const run = runScenario(scenario, { serverUrl: hq.url, maxActive: 2 });
    await expect(run).rejects.toBeInstanceOf(RunSetupError);
    await expect(run).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--max-active 2'),
    });
  });

  it('fieldsim run --max-active 2 --tight-heap over 2 threads: every worker ok; bad values exit 2', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-max-active-'));
    try {
      const file = join(tmp, 'batch.yaml');
      writeFileSync(
        file,
        `name: batch
domain: demo
seed: 6
workers: { count: 6, users: { prefix: cliact, password: fieldsim-act-2, create: true } }
steps:
  - login
  - restore
  - create_case: { type: household, name: "C {{worker}}" }
  - sync
  - assert_local: { outbox: { pending: 0, sent: 1 } }
`,
      );
      const json = join(tmp, 'r.json');
      const admin = ['--admin-user', ADMIN.username, '--admin-api-key', ADMIN.apiKey];
      const args = ['run', file, '--server', hq.url, ...admin, '--no-progress'];
      const r = await runCli([
        ...args,
        '--max-active',
        '2',
        '--tight-heap',
        '--threads',
        '2',
        '--report-json',
        json,
      ]);
      expect(r.stdout).toContain('PASS (exit 0)');
      expect(r.status).toBe(0);
      const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
      expect(report.workers).toMatchObject({ planned: 6, ok: 6, formsSent: 6 });
      // Two threads, one each at a time: at most 2 alive at once in the process.
      const spans = report.workerResults.map((w) => [w.startedAtMs, w.startedAtMs + w.durationMs] as const);
      const overlap = Math.max(...spans.map(([t]) => spans.filter(([a, b]) => a <= t && t < b).length));
      expect(overlap).toBeLessThanOrEqual(2);

      const bad = await runCli([...args, '--max-active', 'many']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--max-active must be 0 (no limit) or a positive integer, got many');
      const badHttp = await runCli(args, { FIELDSIM_RUNNER_HTTP: 'curl' });
      expect(badHttp.status).toBe(2);
      expect(badHttp.stderr).toContain('FIELDSIM_RUNNER_HTTP must be lean or fetch, not curl');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
