import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliJsonInProcess, type JsonRun } from '../helpers/cli-in-process.ts';
import { filesUnder, findInFiles } from '../helpers/profile-scan.ts';
import { submitFromAnotherDevice } from '../helpers/server-form.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * Issue 16's disk check for the CLI: after `fieldsim login` (full restore) and a form saved
 * with a password, no file of the state folder holds a case name, property value or form
 * answer in UTF-8 or UTF-16LE; later commands need the password; an old plain state is
 * migrated (and scrubbed) at the first command with the password.
 */

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-cli-crypt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SERVER_CASE = { name: 'Nyambura Wairimu Kariuki', property: 'Lurambi-Borehole-Eleven' };
const FORM = { name: 'Achieng Otieno Household', village: 'Siaya-Ridge-Fourteen' };
const SECRETS = [SERVER_CASE.name, SERVER_CASE.property, FORM.name, FORM.village];

let hq: StartedEmulator;
let state = '';
beforeEach(async () => {
  hq = await startEmulator();
  state = mkdtempSync(join(tmp, 'state-'));
  const { id } = hq.app.db.prepare("SELECT id FROM users WHERE username LIKE 'worker1@%'").get() as {
    id: string;
  };
  await submitFromAnotherDevice(hq.url, {
    username: 'worker1',
    password: 'fieldsim',
    userId: id,
    name: SERVER_CASE.name,
    properties: { water_point: SERVER_CASE.property },
  });
});
afterEach(async () => {
  await hq.close();
  process.exitCode = undefined;
});

const cli = (...args: string[]): Promise<JsonRun> =>
  cliJsonInProcess([...args, '--state', state, '--json', '-q']);

const who = () => ['--server', hq.url, '--domain', 'demo', '--user', 'worker1'];
const PW = ['--password', 'fieldsim'];

async function saveForm(): Promise<void> {
  const sub = await cli(
    'submit',
    '--new-case',
    '--type',
    'household',
    '--name',
    FORM.name,
    '--prop',
    `village=${FORM.village}`,
    '--offline',
    ...PW,
  );
  expect(sub.out).toMatchObject({ state: 'queued' });
}

async function searchFinds(name: string): Promise<boolean> {
  const r = await cli('cases', '--search', name, ...PW);
  return (r.out.cases as { caseName: string }[]).some((c) => c.caseName === name);
}

describe('fieldsim state folder: encryption at rest', () => {
  it('holds no case name, property value or form answer after login, restore and a form', async () => {
    const login = await cli('login', ...who(), ...PW);
    expect(login.status).toBe(0);
    expect(login.out).toMatchObject({ restore: { mode: 'full' } });
    await saveForm();
    expect(await searchFinds(SERVER_CASE.name)).toBe(true);
    expect(await searchFinds(FORM.name)).toBe(true);

    expect(filesUnder(state).some((f) => f.endsWith('db.sqlite'))).toBe(true);
    expect(findInFiles([state], SECRETS)).toEqual([]);
    // The scan sees what is there: the login record names the worker in clear.
    expect(findInFiles([state], ['worker1@demo']).length).toBeGreaterThan(0);

    // Without the password: a typed error saying how to unlock; a wrong one opens nothing.
    const locked = await cli('cases');
    expect(locked.status).not.toBe(0);
    expect(locked.out.error).toMatchObject({ code: 'data-locked' });
    expect(locked.stderr).toContain('FIELDSIM_PASSWORD or --password');
    const wrong = await cli('cases', '--password', 'not-it');
    expect(wrong.out.error).toMatchObject({ code: 'wrong-password' });
  });

  it('migrates a plain state at the first command with the right password, and scrubs the file', async () => {
    // A state as fieldsim wrote it before encryption: plain database, no plainState mark.
    expect((await cli('login', ...who(), ...PW, '--plain-state')).status).toBe(0);
    await saveForm();
    const user = filesUnder(state).find((f) => f.endsWith('session.json')) as string;
    const record = JSON.parse(readFileSync(user, 'utf8')) as Record<string, unknown>;
    expect(record.plainState).toBe(true);
    delete record.plainState;
    writeFileSync(user, JSON.stringify(record));
    // Readable without a password, and the scan finds the data (the control).
    expect((await cli('cases')).status).toBe(0);
    const before = findInFiles([state], SECRETS).join('\n');
    for (const s of SECRETS) expect(before).toContain(s.slice(0, 9));

    // A wrong password migrates nothing (checked against the login's verifier).
    const wrong = await cli('cases', '--password', 'not-it');
    expect(wrong.out.error).toMatchObject({ code: 'auth-invalid' });
    expect((await cli('cases')).status).toBe(0);

    // The right one migrates: then nothing in clear, and the password is needed.
    expect(await searchFinds(SERVER_CASE.name)).toBe(true);
    expect(findInFiles([state], SECRETS)).toEqual([]);
    expect((await cli('cases')).out.error).toMatchObject({ code: 'data-locked' });
    expect(await searchFinds(FORM.name)).toBe(true);
    const outbox = await cli('outbox', ...PW);
    expect((outbox.out.forms as { state: string }[]).map((f) => f.state)).toEqual(['queued']);
  });

  it('a password login onto a plain state migrates it; an API key alone needs --plain-state', async () => {
    const key = ['--api-key', 'fieldsim-demo-key'];
    const refused = await cli(
      'login',
      ...who().slice(0, 4),
      '--user',
      'admin@example.com',
      '--as',
      'worker1',
      ...key,
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--plain-state');

    expect((await cli('login', ...who(), ...PW, '--plain-state')).status).toBe(0);
    expect(findInFiles([state], SECRETS).length).toBeGreaterThan(0);
    expect((await cli('login', ...who(), ...PW)).status).toBe(0);
    expect(findInFiles([state], SECRETS)).toEqual([]);
    expect(await searchFinds(SERVER_CASE.name)).toBe(true);
  });
});
