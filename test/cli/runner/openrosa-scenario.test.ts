import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/cli/runner/engine.ts';
import { parseScenario, ScenarioError } from '../../../src/cli/runner/parse-scenario.ts';
import { type OpenRosaTestServer, startOpenRosaServer } from '../../helpers/openrosa-server.ts';
import { runCli } from '../../helpers/run-cli.ts';

const HOUSEHOLD = readFileSync(new URL('../../fixtures/openrosa/household.xml', import.meta.url), 'utf8');

let server: OpenRosaTestServer;
beforeEach(async () => {
  server = await startOpenRosaServer({
    forms: [{ formId: 'household', xml: HOUSEHOLD }],
    users: { 'a@example.org': 'pw-a', 'b@example.org': 'pw-b' },
    tokens: ['tok-r'],
  });
});
afterEach(() => server.close());

describe('openrosa: scenarios (QA runner against a generic OpenRosa server)', () => {
  it('workers fill from the form list, queue offline, send when back online; every form arrives once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-openrosa-run-'));
    writeFileSync(join(dir, 'users.csv'), 'username,password\na@example.org,pw-a\nb@example.org,pw-b\n');
    const scenario = parseScenario(
      `
name: central-smoke
seed: 7
openrosa: ${server.projectUrl}
workers:
  count: 2
  users:
    csv: users.csv
steps:
  - login
  - repeat: 3
    steps:
      - submit_form:
          form: household
          answers:
            head_name: "{{user}} #{{i}}"
            has_water: "yes"
  - send
  - offline
  - submit_form: { form: household }
  - assert_local: { outbox: { pending: 1, sent: 3 } }
  - online
  - send
  - assert_local: { outbox: { pending: 0, sent: 4, quarantined: 0 } }
`,
      { file: join(dir, 'scenario.yaml') },
    );
    const r = await runScenario(scenario, {
      serverUrl: server.projectUrl,
      progressMs: 60_000,
      timelineMs: 60_000,
    });
    const workers = r.metrics.workers;
    expect(workers.map((w) => [w.user, w.ok, w.formsSent, w.failures])).toEqual([
      ['a@example.org', true, 4, []],
      ['b@example.org', true, 4, []],
    ]);
    expect(r.metrics.assertions.every((a) => a.ok)).toBe(true);
    expect(server.submissions).toHaveLength(8);
    expect(new Set(server.submissions.map((s) => s.instanceId)).size).toBe(8);
    expect(server.submissions.filter((s) => s.actor === 'basic:a@example.org')).toHaveLength(4);
    expect(server.submissions.map((s) => s.deviceId)).toContain('fieldsim:7:1');
    expect(server.submissions.map((x) => /<head_name>([^<]*)</.exec(x.xml)?.[1])).toEqual(
      expect.arrayContaining(['a@example.org #1', 'a@example.org #3', 'b@example.org #2']),
    );
    expect(server.requests.every((q) => q.version === '1.0')).toBe(true);
    expect(r.metrics.formsAccepted).toBe(8);
  });

  it('an app-user link needs no passwords; a revoked token fails the send step with forbidden, nothing quarantined', async () => {
    const scenario = parseScenario(`
name: central-app-user
openrosa: ${server.appUserUrl('tok-r')}
workers: { count: 1, users: { prefix: collector } }
steps:
  - login
  - submit_form: { form: household }
  - send
  - submit_form: { form: household }
  - send
  - assert_local: { outbox: { quarantined: 0, pending: 1 } }
`);
    server.revoked.clear();
    let sends = 0;
    const r = await runScenario(scenario, {
      serverUrl: server.appUserUrl('tok-r'),
      progressMs: 60_000,
      timelineMs: 60_000,
      // The token is revoked between the first and the second send.
      fetch: async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        if (url.includes('/submission') && init?.method === 'POST' && ++sends === 2)
          server.revoked.add('tok-r');
        return fetch(input, init);
      },
    });
    const [w] = r.metrics.workers;
    expect(w?.formsSent).toBe(1);
    expect(w?.failures).toEqual([
      expect.objectContaining({ kind: 'send', message: expect.stringContaining('[forbidden]') }),
    ]);
    expect(server.submissions).toHaveLength(1);
  });

  it('CommCare steps and cases are refused when the file is read', () => {
    const bad = () =>
      parseScenario(`
name: x
openrosa: ${server.projectUrl}
workers: { count: 1, users: { prefix: u, password: p, create: true } }
steps:
  - login
  - restore
  - create_case: { type: t, name: n }
  - assert_local: { open_cases: 1 }
`);
    expect(bad).toThrow(ScenarioError);
    try {
      bad();
    } catch (e) {
      const text = (e as Error).message;
      expect(text).toContain('restore is a CommCare step');
      expect(text).toContain('create_case is a CommCare step');
      expect(text).toContain('only outbox checks');
      expect(text).toContain('workers.users.create');
    }
    expect(() =>
      parseScenario(
        'name: x\nopenrosa: ftp://x\nworkers: { count: 1, users: { prefix: u } }\nsteps: [login]',
      ),
    ).toThrow(/openrosa: An OpenRosa server URL is http\(s\)/);
  });
});

describe('fieldsim run with an openrosa: scenario (child process)', { timeout: 90_000 }, () => {
  it('runs examples/openrosa.yaml against the test server: the URL is the server, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-openrosa-cli-run-'));
    const example = readFileSync(new URL('../../../examples/openrosa.yaml', import.meta.url), 'utf8');
    const file = join(dir, 'openrosa.yaml');
    writeFileSync(
      file,
      example
        .replace(/^openrosa: .*$/m, `openrosa: ${server.appUserUrl('tok-r')}`)
        .replace('{ min: 200ms, max: 1s }', '{ min: 1ms, max: 5ms }'),
    );
    const report = join(dir, 'report.json');
    const r = await runCli(['run', file, '--report-json', report]);
    expect(r.stdout).toContain('PASS (exit 0)');
    expect(r.status).toBe(0);
    expect(server.submissions).toHaveLength(15);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json).toMatchObject({ ok: true, workers: { planned: 3, ok: 3, formsSent: 15 } });
    // The HEAD pre-flights (204, one per outbox run) count under the same endpoint.
    expect(json.requests.receiver.statuses).toMatchObject({ 201: 15 });
    expect(Object.keys(json.requests.receiver.statuses).sort()).toEqual(['201', '204']);
  });
});
