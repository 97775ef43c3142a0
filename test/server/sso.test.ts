import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

function sso(fields: Record<string, string>, domain = 'demo'): Promise<Response> {
  return fetch(`${emu.url}/a/${domain}/api/v0.5/sso/`, { method: 'POST', body: new URLSearchParams(fields) });
}

// PROTOCOL.md section 1; HQ's TestSingleSignOnResource cases.
describe('POST /a/<domain>/api/v0.5/sso/', () => {
  it('expands a short mobile username and returns the user record', async () => {
    const res = await sso({ username: 'worker1', password: 'fieldsim' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.username).toBe('worker1@demo.commcarehq.org');
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(body.eulas).toBe('[]');
    expect(body.resource_uri).toBe('');
    expect(Array.isArray(body.groups)).toBe(true);
    expect((body.groups as string[]).length).toBe(1);
    expect(Object.keys(body).sort()).toEqual(
      [
        'default_phone_number',
        'email',
        'eulas',
        'first_name',
        'groups',
        'id',
        'last_name',
        'phone_numbers',
        'resource_uri',
        'user_data',
        'username',
      ].sort(),
    );
  });

  it('accepts the full username, case-insensitively', async () => {
    const res = await sso({ username: 'Worker2@demo.commcarehq.org', password: 'fieldsim' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { username: string }).username).toBe('worker2@demo.commcarehq.org');
  });

  it('returns a web user with role and permissions instead of groups', async () => {
    const res = await sso({ username: 'admin@example.com', password: 'fieldsim' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.username).toBe('admin@example.com');
    expect(body.is_admin).toBe(true);
    expect(typeof body.permissions).toBe('object');
    expect(body).not.toHaveProperty('groups');
  });

  it('answers 403 with an empty body for a wrong password', async () => {
    const res = await sso({ username: 'worker1', password: 'nope' });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('');
  });

  it('answers 403 for an unknown user and for correct credentials in another domain', async () => {
    expect((await sso({ username: 'ghost', password: 'fieldsim' })).status).toBe(403);
    const other = await sso({ username: 'worker1@demo.commcarehq.org', password: 'fieldsim' }, 'other');
    expect(other.status).toBe(403);
    expect(await other.text()).toBe('');
  });

  it('answers 400 plain text for a missing username or password', async () => {
    const a = await sso({ password: 'fieldsim' });
    expect(a.status).toBe(400);
    expect(a.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await a.text()).toBe('Missing required parameter: username');
    const b = await sso({ username: 'worker1' });
    expect(b.status).toBe(400);
    expect(await b.text()).toBe('Missing required parameter: password');
  });

  it('answers a bare 403 to GET on list and detail', async () => {
    const list = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`);
    expect(list.status).toBe(403);
    expect(await list.text()).toBe('');
    expect((await fetch(`${emu.url}/a/demo/api/v0.5/sso/x/`)).status).toBe(403);
  });

  it('is also served under v0.4', async () => {
    const res = await fetch(`${emu.url}/a/demo/api/v0.4/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
    });
    expect(res.status).toBe(200);
  });
});
