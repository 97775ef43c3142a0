import { afterEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/runner/engine.ts';
import { parseScenario, ScenarioError } from '../../src/cli/runner/parse-scenario.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * `assert_forwarded` (issue 14): the runner registers a forwarder to its own sink, workers
 * send, and the step checks each sent form reached the sink in time, once.
 */

let hq: StartedEmulator | undefined;
afterEach(async () => {
  await hq?.close();
  hq = undefined;
});

const admin = { username: 'admin@example.com', apiKey: 'fieldsim-demo-key' };

const scenario = (assert: string) =>
  parseScenario(`
name: forwarded
domain: demo
workers: { count: 2, users: { list: [worker1, worker2], password: fieldsim } }
steps:
  - login
  - restore
  - repeat: 4
    steps:
      - create_case: { type: household, name: "Fwd {{user}} {{i}}" }
  - send
  - ${assert}
`);

describe('assert_forwarded', () => {
  it('parses forms and within (default 10 s) and rejects unknown keys', () => {
    const s = scenario('assert_forwarded: { forms: sent, within: 3s }');
    expect(s.steps.at(-1)).toMatchObject({
      kind: 'assert_forwarded',
      checks: [{ op: '=', value: 'sent' }],
      withinMs: 3000,
    });
    expect(scenario('assert_forwarded: { forms: { ">=": 1 } }').steps.at(-1)).toMatchObject({
      withinMs: 10_000,
    });
    expect(() => scenario('assert_forwarded: { forms: sent, soon: true }')).toThrow(ScenarioError);
    expect(() => scenario('assert_forwarded: { within: 2s }')).toThrow(/forms/);
  });

  it('every form sent reaches the run sink once, within the limit; the forwarder is removed after the run', async () => {
    hq = await startEmulator({ forwarding: { pollMs: 10 } });
    const out = await runScenario(scenario('assert_forwarded: { forms: sent, within: 10s }'), {
      serverUrl: hq.url,
      admin,
    });
    const results = out.metrics.assertions.filter((a) => a.kind === 'assert_forwarded');
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r).toMatchObject({ check: 'forms.forwarded', ok: true, expected: '4 (sent) within 10000 ms' });
      expect(r.actual).toMatch(/^4 forwarded \(latency p50 \d+ ms, max \d+ ms\)$/);
    }
    expect(out.metrics.steps.get('forwarding')?.count).toBe(8);
    expect(out.metrics.workers.every((w) => w.ok)).toBe(true);
    // The run's forwarder is gone; its log stays in the database.
    const left = hq.app.db.prepare('SELECT COUNT(*) AS n FROM forwarders').get() as { n: number };
    expect(left.n).toBe(0);
    // Deliveries are logged just after they happen (in the background).
    const successes = () =>
      (
        hq?.app.db.prepare("SELECT COUNT(*) AS n FROM repeat_records WHERE state = 'success'").get() as {
          n: number;
        }
      ).n;
    const end = Date.now() + 5000;
    while (successes() < 8 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(successes()).toBe(8);
  }, 60_000);

  it('fails, saying how many arrived, when forwarding cannot keep the limit', async () => {
    // The engine polls every 2 s, so nothing can arrive within 200 ms.
    hq = await startEmulator({ forwarding: { pollMs: 2000 } });
    const out = await runScenario(scenario('assert_forwarded: { forms: sent, within: 200ms }'), {
      serverUrl: hq.url,
      admin,
    });
    const results = out.metrics.assertions.filter((a) => a.kind === 'assert_forwarded');
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(results[0]?.actual).toMatch(/^\d forwarded/);
    expect(results[0]?.expected).toBe('4 (sent) within 200 ms');
    expect(
      out.metrics.workers.some((w) =>
        w.failures.some((f) => /assert_forwarded forms.forwarded/.test(f.message)),
      ),
    ).toBe(true);
  }, 60_000);

  it('refuses to start against a server that is not on this machine', async () => {
    await expect(
      runScenario(scenario('assert_forwarded: { forms: sent }'), {
        serverUrl: 'http://hq.example.org',
        admin,
      }),
    ).rejects.toThrow(/assert_forwarded needs the server on this machine/);
  });
});
