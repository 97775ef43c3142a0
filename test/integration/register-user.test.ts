import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors/http-error.ts';
import { HqClient } from '../../src/core/http/hq-client.ts';
import { registerUser } from '../../src/core/sync/register-user.ts';
import { cliInProcess } from '../helpers/cli-in-process.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

let hq: StartedEmulator;
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-register-'));
beforeAll(async () => {
  hq = await startEmulator();
});
afterAll(async () => {
  await hq.close();
  rmSync(tmp, { recursive: true, force: true });
});

function client(username: string, password: string, auth?: 'digest'): HqClient {
  return new HqClient({
    serverUrl: hq.url,
    domain: 'demo',
    username,
    password,
    deviceId: 'register-test',
    ...(auth ? { auth } : {}),
  });
}

async function canRestore(c: HqClient): Promise<boolean> {
  try {
    const r = await c.restore();
    if (r.status === 'ok') await r.body.cancel();
    return true;
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) return false;
    throw e;
  }
}

describe('registerUser (core)', () => {
  it('registers with a PBKDF2 hash: the new worker logs in with Basic; Digest needs a clear password', async () => {
    const r = await registerUser(client('worker1', 'fieldsim'), {
      username: 'reg.one',
      password: 'pw-one',
      userData: { team: 'north' },
    });
    expect(r).toMatchObject({ username: 'reg.one', created: true });
    expect(r.uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(await canRestore(client('reg.one', 'pw-one'))).toBe(true);
    // The server never saw the clear password, so it holds no Digest credentials for it.
    expect(await canRestore(client('reg.one', 'pw-one', 'digest'))).toBe(false);

    const clear = await registerUser(client('worker1', 'fieldsim'), {
      username: 'reg.two',
      password: 'pw-two',
      clearPassword: true,
    });
    expect(clear.created).toBe(true);
    expect(await canRestore(client('reg.two', 'pw-two', 'digest'))).toBe(true);
    // Same uuid again: an update.
    const again = await registerUser(client('worker1', 'fieldsim'), {
      username: 'reg.two',
      password: 'pw-two-b',
      uuid: clear.uuid,
    });
    expect(again.created).toBe(false);
  });

  it('a taken username is a registration-rejected HttpError carrying the reason', async () => {
    const err = await registerUser(client('worker1', 'fieldsim'), {
      username: 'worker2',
      password: 'x',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('registration-rejected');
    expect((err as HttpError).status).toBe(422);
    expect((err as HttpError).serverMessage).toMatch(/already taken/);
  });
});

describe('fieldsim register', () => {
  const ENV = [
    'FIELDSIM_SERVER',
    'FIELDSIM_PASSWORD',
    'FIELDSIM_NEW_PASSWORD',
    'FIELDSIM_STATE',
    'FIELDSIM_USER',
  ];
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
    for (const k of ENV) delete process.env[k];
    process.env.FIELDSIM_SERVER = hq.url;
    process.env.FIELDSIM_STATE = mkdtempSync(join(tmp, 'state-'));
    process.env.FIELDSIM_PASSWORD = 'fieldsim';
  });
  afterEach(() => {
    for (const k of ENV) {
      const v = saved[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.exitCode = undefined;
  });

  async function cli(
    ...args: string[]
  ): Promise<{ status: number; out: Record<string, unknown>; stderr: string }> {
    const r = await cliInProcess([...args, '--json']);
    const last = r.stdout.trim().split('\n').at(-1);
    return {
      status: r.status,
      out: last ? (JSON.parse(last) as Record<string, unknown>) : {},
      stderr: r.stderr,
    };
  }

  it('registers with the password from FIELDSIM_NEW_PASSWORD and user data', async () => {
    process.env.FIELDSIM_NEW_PASSWORD = 'cli-pw';
    const r = await cli(
      'register',
      'cli.worker',
      '--domain',
      'demo',
      '--user',
      'worker1',
      '--data',
      'village=hilltop',
      '--date',
      '2026-01-02',
    );
    expect(r.status).toBe(0);
    expect(r.out.registered).toMatchObject({ username: 'cli.worker', created: true });
    expect(await canRestore(client('cli.worker', 'cli-pw'))).toBe(true);
    expect(r.stderr).not.toContain('cli-pw');
  });

  it('without FIELDSIM_NEW_PASSWORD and no terminal it is a usage error; a taken name fails with the reason', async () => {
    const none = await cli('register', 'nobody', '--domain', 'demo', '--user', 'worker1');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/FIELDSIM_NEW_PASSWORD/);
    process.env.FIELDSIM_NEW_PASSWORD = 'x';
    const taken = await cli('register', 'worker2', '--domain', 'demo', '--user', 'worker1');
    expect(taken.status).toBe(1);
    expect((taken.out.error as { code: string }).code).toBe('registration-rejected');
    expect(taken.stderr).toMatch(/already taken/);
  });
});
