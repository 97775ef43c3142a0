import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv, parseScenario, ScenarioError } from '../../../src/cli/runner/parse-scenario.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-scenario-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ISSUE_EXAMPLE = `
name: offline-burst
domain: demo
seed: 42
workers:
  count: 50
  users: { prefix: qa, password: fieldsim, create: true }
arrival: { rate: 5/s, ramp: [{ for: 30s, rate: 1/s }] }
steps:
  - login
  - restore
  - offline
  - repeat: 10
    steps:
      - create_case: { type: household, name: "HH {{worker}}-{{i}}", properties: { village: "{{pick a b c}}" } }
      - update_case: { case: last_created, properties: { visits: "{{i}}" } }
  - close_case: { case: random_open, type: household }
  - submit_form: { form: "Follow up", case: random_open }
  - online
  - sync
  - wait: 2s
  - assert_local: { open_cases: { type: household, ">=": 9 }, outbox: { pending: 0, quarantined: 0 } }
  - assert_server: { cases: { owner: self, type: household, open: 9 }, forms: { user: self, count: sent } }
  - mix: [{ weight: 45, steps: [sync] }, { weight: 45, steps: [{ wait: 1s }] }, { weight: 10, steps: [restore] }]
`;

function problems(yaml: string): string[] {
  try {
    parseScenario(yaml);
  } catch (e) {
    if (e instanceof ScenarioError) return e.problems;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

const HEAD = `name: t\ndomain: demo\nworkers: { count: 1, users: { list: [worker1], password: x } }\n`;

describe('parseScenario', () => {
  it("reads the issue's example vocabulary", () => {
    const s = parseScenario(ISSUE_EXAMPLE);
    expect(s).toMatchObject({ name: 'offline-burst', domain: 'demo', seed: '42', onError: 'stop' });
    expect(s.workers).toMatchObject({ count: 50, users: { kind: 'prefix', prefix: 'qa', create: true } });
    expect(s.arrival).toEqual({ rate: 5, ramp: [{ forMs: 30_000, rate: 1 }], jitter: 0 });
    expect(s.steps.map((x) => x.kind)).toEqual([
      'login',
      'restore',
      'offline',
      'repeat',
      'close_case',
      'submit_form',
      'online',
      'sync',
      'wait',
      'assert_local',
      'assert_server',
      'mix',
    ]);
    const repeat = s.steps[3];
    expect(repeat?.kind === 'repeat' && repeat.times).toBe(10);
    expect(repeat?.kind === 'repeat' && repeat.steps[1]?.path).toBe('steps[3].steps[1]');
    const local = s.steps[9];
    expect(local?.kind === 'assert_local' && local.checks).toEqual([
      {
        what: 'cases',
        label: 'open_cases[type=household]',
        status: 'open',
        caseType: 'household',
        checks: [{ op: '>=', value: 9 }],
      },
      { what: 'outbox', label: 'outbox.pending', field: 'pending', checks: [{ op: '=', value: 0 }] },
      { what: 'outbox', label: 'outbox.quarantined', field: 'quarantined', checks: [{ op: '=', value: 0 }] },
    ]);
    const server = s.steps[10];
    expect(server?.kind === 'assert_server' && server.forms).toEqual({
      user: { kind: 'self' },
      checks: [{ op: '=', value: 'sent' }],
    });
    const mix = s.steps[11];
    expect(mix?.kind === 'mix' && mix.branches.map((b) => b.weight)).toEqual([45, 45, 10]);
  });

  it('restore takes retries and retry_wait like sync, and defaults to no retry', () => {
    const s = parseScenario(`${HEAD}steps:\n  - restore\n  - restore: { retries: 3, retry_wait: 250ms }\n`);
    expect(s.steps.map(({ path: _p, allowFailure: _a, ...b }) => b)).toEqual([
      { kind: 'restore', retries: 0, retryWaitMs: 1000 },
      { kind: 'restore', retries: 3, retryWaitMs: 250 },
    ]);
    expect(problems(`${HEAD}steps:\n  - restore: { retries: -1, every: 2s }\n`)).toHaveLength(2);
  });

  it('names the path of a missing required key', () => {
    expect(
      problems(`${HEAD}steps:\n  - login\n  - restore\n  - offline\n  - create_case: { name: x }\n`),
    ).toEqual(['steps[3].create_case.type: required']);
  });

  it('rejects unknown steps, unknown keys and misplaced placeholders, all at once', () => {
    const p = problems(
      `${HEAD}colour: red\nsteps:\n  - jump\n  - sync: { retires: 2 }\n  - create_case: { type: t, name: "x {{i}}" }\n  - teleport: { to: mars }\n`,
    );
    expect(p).toContain(
      'colour: unknown key (expected one of: name, domain, server, seed, workers, arrival, duration, on_error, admin, assert, steps, openrosa)',
    );
    expect(p.some((x) => x.startsWith('steps[0]: unknown step "jump"'))).toBe(true);
    expect(p.some((x) => x.startsWith('steps[1].sync.retires: unknown key'))).toBe(true);
    expect(p).toContain('steps[2].create_case.name: {{i}} is only defined inside a repeat');
    expect(p.some((x) => x.startsWith('steps[3].teleport: unknown step "teleport"'))).toBe(true);
  });

  it('reports YAML syntax errors and unknown placeholders', () => {
    expect(problems('name: [unclosed\n')[0]).toMatch(/^YAML: /);
    expect(problems(`${HEAD}steps:\n  - create_case: { type: t, name: "{{nope}}" }\n`)).toEqual([
      'steps[0].create_case.name: unknown placeholder {{nope}} (known: worker, user, i, pick, int, shard, today)',
    ]);
  });

  it('needs a duration for repeat: duration, and takes --duration instead', () => {
    const y = `${HEAD}steps:\n  - repeat: duration\n    steps: [{ wait: 1s }]\n`;
    expect(problems(y)).toEqual([
      'duration: required when a step uses `repeat: duration` (or pass --duration)',
    ]);
    expect(parseScenario(y, { durationMs: 5000 }).durationMs).toBe(5000);
  });

  it('checks counts and comparisons', () => {
    expect(problems(`${HEAD}steps:\n  - assert_local: { outbox: { pending: sent } }\n`)).toEqual([
      'steps[0].assert_local.outbox.pending: `sent` is only meaningful for forms.count',
    ]);
    expect(problems(`${HEAD}steps:\n  - assert_local: { open_cases: { type: a, "~": 3 } }\n`)[0]).toMatch(
      /^steps\[0\]\.assert_local\.open_cases\.~: unknown key/,
    );
    const s = parseScenario(
      `${HEAD}steps:\n  - assert_server: { cases: { owner: self, closed: { ">": 1, "<=": 5 } } }\n`,
    );
    const a = s.steps[0];
    expect(a?.kind === 'assert_server' && a.cases?.counts).toEqual([
      {
        field: 'closed',
        checks: [
          { op: '>', value: 1 },
          { op: '<=', value: 5 },
        ],
      },
    ]);
  });

  it('reads users from a csv file next to the scenario, and checks the count against it', () => {
    writeFileSync(join(tmp, 'users.csv'), 'username,password\r\nqa1,"pa,ss"\nqa2,two\n');
    const file = join(tmp, 's.yaml');
    const s = parseScenario(
      'name: c\ndomain: demo\nworkers: { users: { csv: users.csv } }\nsteps: [login]\n',
      { file },
    );
    expect(s.workers).toEqual({
      count: 2,
      users: {
        kind: 'csv',
        file: join(tmp, 'users.csv'),
        users: [
          { username: 'qa1', password: 'pa,ss' },
          { username: 'qa2', password: 'two' },
        ],
      },
    });
    expect(() =>
      parseScenario(
        'name: c\ndomain: demo\nworkers: { count: 3, users: { csv: users.csv } }\nsteps: [login]\n',
        { file },
      ),
    ).toThrow(/workers\.count: is 3 but the users list has only 2/);
  });

  it('parses csv quoting', () => {
    expect(parseCsv('a,b\n"x ""y""",z\n\n')).toEqual([
      ['a', 'b'],
      ['x "y"', 'z'],
    ]);
  });
});
