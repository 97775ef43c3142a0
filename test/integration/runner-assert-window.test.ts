import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/runner/engine.ts';
import { parseScenario } from '../../src/cli/runner/parse-scenario.ts';
import { buildReport } from '../../src/cli/runner/report.ts';
import { createInProcessLock, login } from '../../src/core/index.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * `assert_server: { forms: { count: sent } }` counts the forms received since the run
 * started. Its window opens 2 s early (the server's clock is read from a `Date` header,
 * 1 s resolution), so a form the same user sent just before the run used to count too: a
 * CI run of the smoke example (the test had just run `fieldsim submit` as worker1) failed
 * with "expected 8 (sent), got 9" after polling for 30 s, exit 1. The forms already in the
 * window when the run starts are now left out.
 */

let hq: StartedEmulator;
beforeAll(async () => {
  hq = await startEmulator();
});
afterAll(async () => {
  await hq.close();
});

describe('assert_server forms window', () => {
  it('a form the same user sent a moment before the run is not counted as the run’s', async () => {
    const before = await login({
      serverUrl: hq.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      platform: {
        indexedDB: { indexedDB: new IDBFactory(), IDBKeyRange },
        fetch: (input, init) => globalThis.fetch(input, init),
        lock: createInProcessLock(),
        pbkdf2Iterations: 1000,
      },
    });
    await before.registerCase({ caseType: 'household', caseName: 'Just before the run' });
    expect(await before.sendOutbox()).toMatchObject({ sent: 1, remaining: 0 });
    before.close();

    const scenario = parseScenario(`
name: window
domain: demo
seed: 3
assert: { timeout: 2s, interval: 200ms }
workers: { count: 1, users: { list: [worker1], password: fieldsim } }
steps:
  - login
  - restore
  - create_case: { type: household, name: "In the run" }
  - sync
  - assert_server: { forms: { user: self, count: sent } }
`);
    const outcome = await runScenario(scenario, {
      serverUrl: hq.url,
      admin: { username: 'admin@example.com', apiKey: 'fieldsim-demo-key' },
    });
    const forms = outcome.metrics.assertions.find((a) => a.check === 'forms.count');
    expect(forms).toMatchObject({ ok: true, expected: '1 (sent)', actual: '1' });
    const report = buildReport(scenario, outcome);
    expect(report.ok).toBe(true);
  });
});
