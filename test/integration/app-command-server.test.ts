import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEMO_APP_ID } from '../../src/server/seed/demo-app.ts';
import { runCli } from '../helpers/run-cli.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * `fieldsim app` against a server, with the flags the issue names: APP as a server root
 * with `--domain`/`--app-id`, or as HQ's profile URL; `--state` from `fieldsim login`;
 * `--datum`; `--lang` for the form's own messages.
 */
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-app-server-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let hq: StartedEmulator | undefined;
afterEach(async () => {
  await hq?.close();
  hq = undefined;
});

const last = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown>;

describe('fieldsim app against the emulator', { timeout: 300_000 }, () => {
  it('shows and fills the served demo app from a worker state, with --datum and --lang', async () => {
    hq = await startEmulator();
    const env = { FIELDSIM_PASSWORD: 'fieldsim' };
    const state = join(tmp, 'state');
    const login = await runCli(
      ['login', '--server', hq.url, '--domain', 'demo', '--user', 'worker1', '--state', state, '-q'],
      env,
    );
    expect(login.status, login.stderr).toBe(0);

    const show = await runCli(
      ['app', 'show', hq.url, '--domain', 'demo', '--app-id', DEMO_APP_ID, '--user', 'worker1', '--json'],
      env,
    );
    expect(show.status, show.stderr).toBe(0);
    expect(last(show.stdout)).toMatchObject({ name: 'fieldsim demo', caseTypes: ['household', 'member'] });

    const profile = `${hq.url}/a/demo/apps/download/${DEMO_APP_ID}/profile.ccpr`;
    const db = hq.app.db;
    const household = db
      .prepare(
        "SELECT case_id FROM cases WHERE domain = 'demo' AND case_type = 'household' AND closed = 0 LIMIT 1",
      )
      .get() as { case_id: string };
    const answers = join(tmp, 'visit.json');
    writeFileSync(answers, JSON.stringify({ '/data/last_visit_notes': 'by datum' }));
    const fill = await runCli(
      [
        'app',
        'fill',
        profile,
        '--user',
        'worker1',
        '--domain',
        'demo',
        '--state',
        state,
        '--form',
        'm0-f1',
        '--datum',
        `case_id=${household.case_id}`,
        '--answers',
        answers,
        '--auto',
        '--json',
      ],
      env,
    );
    expect(fill.status, fill.stderr).toBe(0);
    const out = last(fill.stdout) as { caseBlocks: { caseId: string }[]; xml: string };
    expect(out.caseBlocks.map((b) => b.caseId)).toEqual([household.case_id]);
    expect(out.xml).toContain('<last_visit_notes>by datum</last_visit_notes>');

    const size = join(tmp, 'size.json');
    writeFileSync(size, JSON.stringify({ '/data/household_name': 'Trop grand', '/data/household_size': 99 }));
    const fr = await runCli(
      [
        'app',
        'fill',
        profile,
        '--user',
        'worker1',
        '--domain',
        'demo',
        '--state',
        state,
        '--form',
        'm0-f0',
        '--answers',
        size,
        '--lang',
        'fr',
        '--json',
      ],
      env,
    );
    expect(fr.status).toBe(1);
    expect(last(fr.stdout).errors).toEqual([
      {
        ref: '/data/household_size',
        code: 'constraint',
        message: 'Un ménage compte entre 1 et 30 personnes.',
      },
    ]);
  });
});
