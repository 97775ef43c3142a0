import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/server/auth/api-keys.ts';
import { NO_FAULTS } from '../../src/server/faults.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The single-worker CLI (issue 7) end to end: the real entry point (bin/fieldsim.js, what
 * `npx fieldsim` runs) in child processes, against the emulator on a free loopback port,
 * with state folders kept between commands. Child processes run asynchronously: the
 * emulator answers from this process's event loop.
 */

const BIN = resolve(import.meta.dirname, '../../bin/fieldsim.js');
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let hq: StartedEmulator;
beforeEach(async () => {
  hq = await startEmulator();
});
afterEach(async () => {
  await hq.close();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  env: Record<string, string> = {},
  onStderr?: (chunk: string) => void,
): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmp,
        FIELDSIM_SERVER: hq.url,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(d.toString());
    });
    child.on('error', rej);
    child.on('close', (status) => res({ status, stdout, stderr }));
  });
}

function json<T = Record<string, unknown>>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
}

function stateDir(name: string): string {
  return join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`);
}

interface ServerCase {
  case_id: string;
  name: string;
  closed: number;
  properties: string;
}

function serverCase(id: string): ServerCase | undefined {
  return hq.app.db.prepare('SELECT case_id, name, closed, properties FROM cases WHERE case_id = ?').get(id) as
    | ServerCase
    | undefined;
}

function serverForms(instanceId: string): { state: string }[] {
  return hq.app.db.prepare('SELECT state FROM forms WHERE xml LIKE ?').all(`%${instanceId}%`) as {
    state: string;
  }[];
}

interface OutboxForm {
  instanceId: string;
  state: string;
  seq: number;
  lastError?: string;
  quarantineReason?: string;
  serverMessage?: string;
}

// Each command is a child process (tsx start-up included): allow for a busy machine.
describe('fieldsim worker commands', { timeout: 300_000 }, () => {
  it('login, cases, submit offline, outbox, sync; a second state folder sees the case', async () => {
    const env = { FIELDSIM_STATE: stateDir('a'), FIELDSIM_PASSWORD: 'fieldsim' };
    const login = await cli(['login', '--domain', 'demo', '--user', 'worker1', '--json'], env);
    expect(login.status).toBe(0);
    const lj = json<{ user: { username: string; userId: string; auth: string }; cases: { open: number } }>(
      login,
    );
    expect(lj.user).toMatchObject({ username: 'worker1@demo.commcarehq.org', auth: 'password' });
    expect(lj.cases.open).toBe(25);
    expect(login.stderr).toMatch(/restore: done .* 25 cases/);
    expect(login.stdout + login.stderr).not.toContain('fieldsim"');

    // Later commands need neither server, domain nor user; the state is encrypted, so they
    // need the password, which opens it on the device (no network: see the locked run).
    const offlineEnv = { FIELDSIM_STATE: env.FIELDSIM_STATE, FIELDSIM_PASSWORD: 'fieldsim' };
    const locked = await cli(['cases', '--json'], { FIELDSIM_STATE: env.FIELDSIM_STATE });
    expect(locked.status).not.toBe(0);
    expect(locked.stderr).toContain('[data-locked]');
    expect(locked.stderr).toContain('FIELDSIM_PASSWORD');
    const wrong = await cli(['cases', '--json'], { ...offlineEnv, FIELDSIM_PASSWORD: 'not-it' });
    expect(wrong.stderr).toContain('[wrong-password]');
    const households = await cli(['cases', '--type', 'household', '--json'], offlineEnv);
    expect(households.status).toBe(0);
    const hj = json<{ total: number; cases: { caseId: string; caseType: string }[] }>(households);
    expect(hj.total).toBe(hj.cases.length);
    expect(hj.cases.every((c) => c.caseType === 'household')).toBe(true);
    const parent = hj.cases[0]?.caseId as string;

    const sub = await cli(
      [
        'submit',
        '--new-case',
        '--type',
        'member',
        '--name',
        'Zanele CLI',
        '--prop',
        'age=7',
        '--prop',
        'note=a=b',
        '--parent',
        parent,
        '--offline',
        '--json',
      ],
      offlineEnv,
    );
    expect(sub.status).toBe(0);
    const sj = json<{ instanceId: string; caseId: string; state: string; send: null }>(sub);
    expect(sj).toMatchObject({ state: 'queued', send: null });

    const ob = json<{ counts: { queued: number }; forms: OutboxForm[] }>(
      await cli(['outbox', '--json'], offlineEnv),
    );
    expect(ob.counts.queued).toBe(1);
    expect(ob.forms).toEqual([
      expect.objectContaining({ instanceId: sj.instanceId, state: 'queued', seq: 1 }),
    ]);
    const xml = await cli(['outbox', 'show', sj.instanceId], offlineEnv);
    expect(xml.status).toBe(0);
    expect(xml.stdout).toContain(`<orx:instanceID>${sj.instanceId}</orx:instanceID>`);
    // Saved locally at once: the case list and the detail already show it.
    const detail = json<{
      case: { properties: Record<string, string> };
      parents: { caseId: string; found: boolean }[];
    }>(await cli(['cases', 'show', sj.caseId, '--json'], offlineEnv));
    expect(detail.case.properties).toEqual({ age: '7', note: 'a=b' });
    expect(detail.parents).toEqual([expect.objectContaining({ caseId: parent, found: true })]);
    expect(serverCase(sj.caseId)).toBeUndefined();

    const sync = await cli(['sync', '--json'], env);
    expect(sync.status).toBe(0);
    const syj = json<{ send: { sent: number; remaining: number }; restore: { mode: string } }>(sync);
    expect(syj.send).toMatchObject({ sent: 1, remaining: 0 });
    expect(syj.restore.mode).toBe('incremental');
    expect(serverCase(sj.caseId)).toMatchObject({ name: 'Zanele CLI', closed: 0 });
    expect(serverForms(sj.instanceId).map((f) => f.state)).toEqual(['normal']);

    const other = { FIELDSIM_STATE: stateDir('b'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker1', '-q'], other)).status).toBe(0);
    const seen = json<{ total: number; cases: { caseId: string }[] }>(
      await cli(['cases', '--search', 'zanele', '--json'], other),
    );
    expect(seen.cases.map((c) => c.caseId)).toEqual([sj.caseId]);

    // Update and close go out at once (no --offline) and reach the server.
    const upd = await cli(['submit', '--update-case', sj.caseId, '--prop', 'age=8', '--json'], other);
    expect(upd.status).toBe(0);
    expect(json(upd)).toMatchObject({ state: 'sent' });
    const close = await cli(['submit', '--close-case', sj.caseId, '--json'], other);
    expect(json(close)).toMatchObject({ state: 'sent' });
    expect(serverCase(sj.caseId)?.closed).toBe(1);
    expect(JSON.parse(serverCase(sj.caseId)?.properties ?? '{}')).toMatchObject({ age: '8' });
  });

  it('a server 500 keeps the form queued (exit 1); a later outbox send delivers it exactly once', async () => {
    const env = { FIELDSIM_STATE: stateDir('c'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker2', '-q'], env)).status).toBe(0);
    hq.app.setFaults({ ...NO_FAULTS, error500: 1 });
    const sub = await cli(['submit', '--new-case', '--type', 'household', '--name', 'Faulty', '--json'], env);
    expect(sub.status).toBe(1);
    const sj = json<{
      instanceId: string;
      caseId: string;
      state: string;
      send: { stoppedBy: { code: string } };
    }>(sub);
    expect(sj.state).toBe('queued');
    expect(sj.send.stoppedBy.code).toBe('server-error');
    expect(serverForms(sj.instanceId)).toEqual([]);
    const ob = json<{ forms: OutboxForm[] }>(await cli(['outbox', '--json'], env));
    expect(ob.forms[0]).toMatchObject({ instanceId: sj.instanceId, state: 'queued' });
    expect(ob.forms[0]?.lastError).toBeTruthy();

    const again = await cli(['outbox', 'send', '--json'], env);
    expect(again.status).toBe(1);
    hq.app.setFaults({ ...NO_FAULTS });
    const send = await cli(['outbox', 'send', '--json'], env);
    expect(send.status).toBe(0);
    expect(json(send)).toMatchObject({ send: { sent: 1, remaining: 0 }, counts: { queued: 0, sent: 1 } });
    const twice = await cli(['outbox', 'send', '--json'], env);
    expect(json(twice)).toMatchObject({ send: { sent: 0, remaining: 0 } });
    expect(serverForms(sj.instanceId).map((f) => f.state)).toEqual(['normal']);
    expect(serverCase(sj.caseId)?.name).toBe('Faulty');
  });

  it('a submit killed after saving, during the send, loses nothing: the next send delivers it once', async () => {
    const env = { FIELDSIM_STATE: stateDir('k'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker1', '-q'], env)).status).toBe(0);
    // The receiver stalls, so the kill lands while the form is being sent.
    hq.app.setFaults({ ...NO_FAULTS, latencyMs: 20_000 });
    let instanceId = '';
    const killed = await new Promise<Run>((res, rej) => {
      const child = spawn(
        process.execPath,
        [BIN, 'submit', '--new-case', '--type', 'household', '--name', 'Killed'],
        {
          env: { PATH: process.env.PATH ?? '', FIELDSIM_SERVER: hq.url, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stderr.on('data', (d: Buffer) => {
        const m = /saved .* as ([0-9a-f-]{36})/.exec(d.toString());
        if (m) {
          instanceId = m[1] as string;
          // Give the send a moment to be on the wire, then kill without any cleanup.
          setTimeout(() => child.kill('SIGKILL'), 300);
        }
      });
      child.on('error', rej);
      child.on('close', (status) => res({ status, stdout: '', stderr: '' }));
    });
    expect(killed.status).toBeNull();
    expect(instanceId).not.toBe('');
    hq.app.setFaults({ ...NO_FAULTS });
    const ob = json<{ forms: OutboxForm[] }>(await cli(['outbox', '--json'], env));
    expect(ob.forms.map((f) => [f.instanceId, f.state])).toEqual([[instanceId, 'queued']]);
    const send = await cli(['outbox', 'send', '--json'], env);
    expect(send.status).toBe(0);
    // Give the stalled first POST time to finish on the server too: still one form.
    await new Promise((r) => setTimeout(r, 200));
    expect(serverForms(instanceId).filter((f) => f.state === 'normal')).toHaveLength(1);
  });

  it('wrong password: exit 1, a clear message, no secret printed, nothing kept', async () => {
    const dir = stateDir('d');
    const r = await cli(['login', '--domain', 'demo', '--user', 'worker1', '--json'], {
      FIELDSIM_STATE: dir,
      FIELDSIM_PASSWORD: 'not-the-password',
    });
    expect(r.status).toBe(1);
    expect(json(r)).toEqual({
      error: { code: 'auth-invalid', message: 'Unknown user or wrong password', status: 403 },
    });
    expect(r.stderr).toContain('fieldsim login: Unknown user or wrong password [auth-invalid]');
    expect(r.stdout + r.stderr).not.toContain('not-the-password');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'current.json'))).toBe(false);
    expect(readdirSync(join(dir, 'users'))).toEqual([]);
    // And a command before any login is a usage error.
    const none = await cli(['cases', '--domain', 'demo', '--user', 'worker1'], { FIELDSIM_STATE: dir });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('run `fieldsim login` first');
  });

  it('API key login learns the user from the restore; the key works for submit; nothing secret is stored', async () => {
    hq.app.db
      .prepare('UPDATE users SET api_key = ? WHERE username = ?')
      // Stored hashed, as the emulator stores every key.
      .run(hashApiKey('w2-key'), 'worker2@demo.commcarehq.org');
    const worker2 = hq.app.db
      .prepare('SELECT id FROM users WHERE username = ?')
      .get('worker2@demo.commcarehq.org') as {
      id: string;
    };
    const dir = stateDir('e');
    const env = { FIELDSIM_STATE: dir, FIELDSIM_API_KEY: 'w2-key' };
    // A key cannot encrypt the state: refused unless the plain state is asked for.
    const refused = await cli(['login', '--domain', 'demo', '--user', 'worker2', '--json'], env);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--plain-state');
    const login = await cli(
      ['login', '--domain', 'demo', '--user', 'worker2', '--plain-state', '--json'],
      env,
    );
    expect(login.status).toBe(0);
    expect(json(login)).toMatchObject({ user: { userId: worker2.id, auth: 'api-key' }, cases: { open: 25 } });
    const sub = await cli(['submit', '--new-case', '--type', 'household', '--name', 'By key', '--json'], env);
    expect(json(sub)).toMatchObject({ state: 'sent' });
    const caseId = json<{ caseId: string }>(sub).caseId;
    const owner = hq.app.db.prepare('SELECT owner_id FROM cases WHERE case_id = ?').get(caseId) as {
      owner_id: string;
    };
    expect(owner.owner_id).toBe(worker2.id);
    // A wrong key is refused by the server.
    const bad = await cli(['sync'], { FIELDSIM_STATE: dir, FIELDSIM_API_KEY: 'nope' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('[auth-invalid]');
    // No file in the state folder holds the key.
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)],
      );
    for (const f of files(dir)) expect(readFileSync(f).includes('w2-key')).toBe(false);
  });

  it('outbox quarantine, requeue, export and import across state folders', async () => {
    const a = { FIELDSIM_STATE: stateDir('f'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker1', '-q'], a)).status).toBe(0);
    const sub = json<{ instanceId: string; caseId: string }>(
      await cli(['submit', '--new-case', '--type', 'household', '--name', 'Moved', '--offline', '--json'], a),
    );
    const q = await cli(['outbox', 'quarantine', sub.instanceId, '--reason', 'wrong village', '--json'], a);
    expect(json(q)).toEqual({ instanceId: sub.instanceId, state: 'quarantined', reason: 'wrong village' });
    expect((await cli(['outbox', 'quarantine', sub.instanceId], a)).status).toBe(2);
    const rq = await cli(['outbox', 'requeue', sub.instanceId, '--json'], a);
    expect(json(rq)).toEqual({ instanceId: sub.instanceId, state: 'queued' });

    const file = join(tmp, `export-${Date.now()}.json`);
    const ex = await cli(['outbox', 'export', file, '--json'], a);
    expect(json(ex)).toEqual({ file, forms: 1, encrypted: true });
    // Encrypted by default (with the password): the case name is not in the file.
    expect(readFileSync(file, 'utf8')).toContain('fieldsim-encrypted-export');
    expect(readFileSync(file, 'utf8')).not.toContain('Moved');
    const plainFile = join(tmp, `export-plain-${Date.now()}.json`);
    expect(json(await cli(['outbox', 'export', plainFile, '--plain', '--json'], a))).toEqual({
      file: plainFile,
      forms: 1,
      encrypted: false,
    });
    expect(readFileSync(plainFile, 'utf8')).toContain('Moved');

    const b = { FIELDSIM_STATE: stateDir('g'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker1', '-q'], b)).status).toBe(0);
    const wrong = await cli(['outbox', 'import', file, '--json'], { ...b, FIELDSIM_PASSWORD: 'not-it' });
    expect(json(wrong)).toMatchObject({ error: { code: 'wrong-password' } });
    const im = await cli(['outbox', 'import', file, '--json'], b);
    expect(json(im)).toEqual({ imported: 1, skipped: 0, failed: [] });
    expect(json(await cli(['outbox', 'import', file, '--json'], b))).toMatchObject({
      imported: 0,
      skipped: 1,
    });
    // The imported form's case change is applied locally, then it is delivered.
    expect(json(await cli(['cases', 'show', sub.caseId, '--json'], b))).toMatchObject({
      case: { caseName: 'Moved' },
    });
    expect((await cli(['outbox', 'send'], b)).status).toBe(0);
    expect(serverCase(sub.caseId)?.name).toBe('Moved');
    writeFileSync(join(tmp, 'bad.json'), '{"nope":1}');
    expect((await cli(['outbox', 'import', join(tmp, 'bad.json')], b)).status).toBe(2);
  });

  it('application forms: the structure is fetched with web-user credentials once, then cached', async () => {
    const env = { FIELDSIM_STATE: stateDir('app'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker1', '-q'], env)).status).toBe(0);
    const noStructure = await cli(['submit', '--form', 'Follow up', '--offline'], env);
    expect(noStructure.status).toBe(2);
    expect(noStructure.stderr).toContain('--app-user');
    const household = json<{ cases: { caseId: string }[] }>(
      await cli(['cases', '--type', 'household', '--limit', '1', '--json'], env),
    ).cases[0]?.caseId as string;

    const web = { ...env, FIELDSIM_APP_USER: 'admin@example.com', FIELDSIM_APP_API_KEY: 'fieldsim-demo-key' };
    const follow = await cli(
      ['submit', '--form', 'follow up', '--case', household, '--answer', 'visit_count=4', '--json'],
      web,
    );
    expect(follow.status).toBe(0);
    expect(json(follow)).toMatchObject({ xmlns: 'http://fieldsim.dev/demo/follow-up', state: 'sent' });
    expect(JSON.parse(serverCase(household)?.properties ?? '{}')).toMatchObject({ visit_count: '4' });

    // Cached: no web-user credentials needed any more; a child registration by xmlns.
    const member = await cli(
      [
        'submit',
        '--form',
        'http://fieldsim.dev/demo/register-member',
        '--case',
        household,
        '--answer',
        'member_name=Lindiwe',
        '--answer',
        'age=4',
        '--json',
      ],
      env,
    );
    expect(member.status).toBe(0);
    const mj = json<{ caseId: string; state: string }>(member);
    expect(mj.state).toBe('sent');
    expect(serverCase(mj.caseId)?.name).toBe('Lindiwe');
    const shown = json<{ parents: { caseId: string }[] }>(
      await cli(['cases', 'show', mj.caseId, '--json'], env),
    );
    expect(shown.parents.map((p) => p.caseId)).toEqual([household]);

    // The form's own checks and unknown questions are usage errors, before anything is saved.
    const bad = await cli(
      ['submit', '--form', 'Register member', '--case', household, '--answer', 'age=four'],
      env,
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Age must be a whole number');
    const unknown = await cli(
      ['submit', '--form', 'Follow up', '--case', household, '--answer', 'nope=1'],
      env,
    );
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('the form asks: visit_count');
    expect(json<{ forms: unknown[] }>(await cli(['outbox', '--json'], env)).forms).toHaveLength(2);
  });

  it('a second command on the same state fails at once with state-in-use', async () => {
    const env = { FIELDSIM_STATE: stateDir('h'), FIELDSIM_PASSWORD: 'fieldsim' };
    expect((await cli(['login', '--domain', 'demo', '--user', 'worker1', '-q'], env)).status).toBe(0);
    const users = join(env.FIELDSIM_STATE, 'users');
    const userDir = join(users, readdirSync(users)[0] as string);
    // A lock held by a live process (this test runner).
    writeFileSync(
      join(userDir, 'lock'),
      JSON.stringify({
        pid: process.pid,
        host: (await import('node:os')).hostname(),
        command: 'sync',
        since: 'now',
      }),
    );
    const r = await cli(['cases', '--json'], env);
    expect(r.status).toBe(1);
    expect(json(r)).toMatchObject({ error: { code: 'state-in-use' } });
    expect(r.stderr).toContain(`state is in use by another fieldsim command (sync, pid ${process.pid}`);
    rmSync(join(userDir, 'lock'));
    expect((await cli(['cases'], env)).status).toBe(0);
  });
});
