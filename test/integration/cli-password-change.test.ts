import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { changePassword } from '../helpers/change-password.ts';
import { cliJsonInProcess, type JsonRun } from '../helpers/cli-in-process.ts';
import { submitFromAnotherDevice } from '../helpers/server-form.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * Issue 16, "password changed on the server", through the CLI against the emulator: an
 * admin changes worker1's password on the server; the next `fieldsim login` with the new
 * password opens the encrypted state through the key escrow (HQ's key records), or, on a
 * server without key records, with FIELDSIM_PREVIOUS_PASSWORD; the old password then opens
 * nothing.
 */

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-cli-pwchange-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASE = 'Wanjiru Escrow Kamau';
const FORM = 'Queued Before Change';

let hq: StartedEmulator | undefined;
let state = '';
afterEach(async () => {
  await hq?.close();
  hq = undefined;
  delete process.env.FIELDSIM_PREVIOUS_PASSWORD;
  process.exitCode = undefined;
});

async function start(keyRecords: boolean): Promise<StartedEmulator> {
  const emu = await startEmulator({ keyRecords });
  hq = emu;
  state = mkdtempSync(join(tmp, 'state-'));
  const { id } = emu.app.db.prepare("SELECT id FROM users WHERE username LIKE 'worker1@%'").get() as {
    id: string;
  };
  await submitFromAnotherDevice(emu.url, {
    username: 'worker1',
    password: 'fieldsim',
    userId: id,
    name: CASE,
  });
  return emu;
}

const cli = (...args: string[]): Promise<JsonRun> =>
  cliJsonInProcess([...args, '--state', state, '--json', '-q']);

const who = (url: string) => ['--server', url, '--domain', 'demo', '--user', 'worker1'];

async function caseNames(password: string): Promise<string[]> {
  const r = await cli('cases', '--password', password);
  expect(r.status).toBe(0);
  return (r.out.cases as { caseName: string }[]).map((c) => c.caseName).sort();
}

async function saveOffline(password: string): Promise<void> {
  const r = await cli(
    'submit',
    '--new-case',
    '--type',
    'household',
    '--name',
    FORM,
    '--offline',
    '--password',
    password,
  );
  expect(r.out).toMatchObject({ state: 'queued' });
}

describe('fieldsim login after a password change on the server', () => {
  it('with key records: the new password opens the state (escrow); the old one opens nothing', async () => {
    const emu = await start(true);
    expect((await cli('login', ...who(emu.url), '--password', 'fieldsim')).status).toBe(0);
    await saveOffline('fieldsim');
    await changePassword(emu.url, 'worker1', 'changed-pw-1');

    const login = await cli('login', ...who(emu.url), '--password', 'changed-pw-1');
    expect(login.stderr).toBe('');
    expect(login.status).toBe(0);
    // The form saved before the change went out with the new password.
    expect(login.out).toMatchObject({ send: { sent: 1, remaining: 0 } });
    expect(await caseNames('changed-pw-1')).toEqual(expect.arrayContaining([FORM, CASE]));

    const old = await cli('cases', '--password', 'fieldsim');
    expect(old.status).not.toBe(0);
    expect(old.out.error).toMatchObject({ code: 'wrong-password' });
    expect(old.stderr).toContain('fieldsim login');
  });

  it('without key records: typed password-changed, then FIELDSIM_PREVIOUS_PASSWORD re-wraps once', async () => {
    const emu = await start(false);
    expect((await cli('login', ...who(emu.url), '--password', 'fieldsim')).status).toBe(0);
    await changePassword(emu.url, 'worker1', 'changed-pw-2');

    const refused = await cli('login', ...who(emu.url), '--password', 'changed-pw-2');
    expect(refused.status).toBe(1);
    expect(refused.out.error).toMatchObject({ code: 'password-changed' });
    expect(refused.stderr).toContain('FIELDSIM_PREVIOUS_PASSWORD');
    // Nothing changed: the old password still opens the state offline.
    expect(await caseNames('fieldsim')).toContain(CASE);

    process.env.FIELDSIM_PREVIOUS_PASSWORD = 'not-the-old-one';
    const wrong = await cli('login', ...who(emu.url), '--password', 'changed-pw-2');
    expect(wrong.out.error).toMatchObject({ code: 'wrong-password' });

    process.env.FIELDSIM_PREVIOUS_PASSWORD = 'fieldsim';
    const ok = await cli('login', ...who(emu.url), '--password', 'changed-pw-2');
    expect(ok.status).toBe(0);
    delete process.env.FIELDSIM_PREVIOUS_PASSWORD;
    expect(await caseNames('changed-pw-2')).toContain(CASE);
    expect((await cli('cases', '--password', 'fieldsim')).out.error).toMatchObject({
      code: 'wrong-password',
    });
    // Later logins need nothing more.
    expect((await cli('login', ...who(emu.url), '--password', 'changed-pw-2')).status).toBe(0);
  });
});
