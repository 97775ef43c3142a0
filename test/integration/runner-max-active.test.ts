import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSetupError, runScenario } from '../../src/cli/runner/engine.ts';
import { parseScenario } from '../../src/cli/runner/parse-scenario.ts';
import { buildReport } from '../../src/cli/runner/report.ts';
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
});
