import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/cli/runner/report.ts';
import { runInThreads, type ThreadRunInput } from '../../src/cli/runner/run-threads.ts';
import { runCli } from '../helpers/run-cli.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * `fieldsim run` over worker threads (issue 15 part 5): the shards run in threads of one
 * process and their reports merge into one; a rerun on the same users reuses them (HQ's
 * 400 "already taken" is no error) and restores the cases the first run created.
 */

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-threads-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let hq: StartedEmulator | undefined;
afterEach(async () => {
  await hq?.close();
  hq = undefined;
});

function scenario(openCases: number): string {
  return `
name: threads
domain: demo
seed: 3
workers: { count: 6, users: { prefix: thr, password: fieldsim-thr-1, create: true } }
steps:
  - login
  - restore
  - repeat: 2
    steps:
      - create_case: { type: household, name: "T {{worker}}-{{i}}" }
  - sync
  - assert_local: { open_cases: { type: household, "=": ${openCases} }, outbox: { pending: 0, sent: 2 } }
`;
}

describe('runInThreads', () => {
  it('runs the shards in threads, merges one report, and a rerun reuses the users and restores more', async () => {
    hq = await startEmulator();
    const input = (text: string): ThreadRunInput => ({
      scenario: { text },
      options: {
        serverUrl: hq?.url ?? '',
        admin: { username: 'admin@example.com', apiKey: 'fieldsim-demo-key' },
        timelineMs: 500,
      },
    });
    const logs: string[] = [];
    const first = await runInThreads(input(scenario(2)), { threads: 2, log: (l) => logs.push(l) });
    expect(first.ok).toBe(true);
    expect(first.shards.map((s) => `${s.index}/${s.count}`)).toEqual(['1/2', '2/2']);
    expect(first.workers).toMatchObject({ planned: 6, ok: 6, formsSent: 12 });
    expect(first.workerResults.map((w) => w.user)).toEqual(['thr1', 'thr2', 'thr3', 'thr4', 'thr5', 'thr6']);
    expect(first.timeline?.samples.length).toBeGreaterThan(0);
    // Both threads measured this process: the merged timeline names it once.
    expect(first.timeline?.processes).toHaveLength(1);
    expect(first.timeline?.processes?.[0]).toContain(`:${process.pid}:`);
    // The process's RSS, once (not each thread's view of it added up).
    for (const x of first.timeline?.samples ?? []) {
      expect(x.rssMb).toBeGreaterThan(0);
      expect(x.rssMb).toBeLessThan(process.memoryUsage().rss / 2 ** 20 + 200);
    }
    expect(logs.sort()).toEqual([
      'users: 3 created, 0 already existed',
      'users: 3 created, 0 already existed',
    ]);

    // Same users again: each restores the 2 cases it created before, then adds 2.
    logs.length = 0;
    const again = await runInThreads(input(scenario(4)), { threads: 2, log: (l) => logs.push(l) });
    expect(logs).toEqual(['users: 0 created, 3 already existed', 'users: 0 created, 3 already existed']);
    expect(again.ok).toBe(true);
    expect(again.exitCode).toBe(0);
    expect(again.requests.api?.statuses?.['400']).toBe(6);
    expect(again.requests.api?.errors).toBe(0);
    expect(again.assertions.byCheck).toMatchObject({
      'assert_local open_cases[type=household]': { passed: 6, failed: 0 },
    });
  }, 120_000);

  it('reports a scenario the thread cannot run as a setup error', async () => {
    hq = await startEmulator();
    await expect(
      runInThreads({ scenario: { text: scenario(2) }, options: { serverUrl: hq.url } }, { threads: 2 }),
    ).rejects.toMatchObject({ name: 'RunSetupError', exitCode: 2 });
  }, 60_000);

  it('an interrupt reaches every thread: each stops its workers and still reports', async () => {
    hq = await startEmulator();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 1500);
    const t0 = Date.now();
    const report = await runInThreads(
      {
        scenario: {
          text: `name: stop
domain: demo
duration: 60s
workers: { count: 2, users: { list: [worker1, worker2], password: fieldsim } }
steps:
  - login
  - repeat: duration
    steps:
      - wait: { min: 100ms, max: 200ms }
`,
        },
        options: { serverUrl: hq.url },
      },
      { threads: 2, signal: ac.signal },
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(report.interrupted).toBe(true);
    expect(report.workers).toMatchObject({ planned: 2, stopped: 2 });
    expect(report.exitCode).toBe(1);
  }, 60_000);

  it('fieldsim run --threads 2 runs the compiled thread entry and prints one merged summary', async () => {
    hq = await startEmulator();
    const file = join(tmp, 'two.yaml');
    writeFileSync(
      file,
      `name: two
domain: demo
workers: { count: 2, users: { list: [worker1, worker2], password: fieldsim } }
steps:
  - login
  - restore
  - create_case: { type: household, name: "Two {{worker}}" }
  - sync
  - assert_local: { outbox: { sent: 1 } }
`,
    );
    const json = join(tmp, 'two.json');
    const r = await runCli([
      'run',
      file,
      '--server',
      hq.url,
      '--threads',
      '2',
      '--report-json',
      json,
      '--no-progress',
    ]);
    expect(r.stdout).toContain('(2 shards merged, seed');
    expect(r.stdout).toContain('PASS (exit 0)');
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    expect(report.workers).toMatchObject({ planned: 2, ok: 2, formsSent: 2 });

    const bad = await runCli(['run', file, '--server', hq.url, '--threads', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--threads must be 'auto' or an integer from 1 to 64, got 0");
  }, 120_000);
});
