import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUserByUsername } from '../../src/server/db/users.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, kids, xml } from './helpers.ts';

const ADMIN_KEY = 'ApiKey admin@example.com:fieldsim-demo-key';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

async function restoreAs(auth: string, as: string) {
  const res = await fetch(`${emu.url}/a/demo/phone/restore/?as=${encodeURIComponent(as)}`, {
    headers: { authorization: auth },
  });
  const body = await res.text();
  return { status: res.status, body };
}

function restoredUser(body: string): string | undefined {
  const reg = kids(xml(body), 'Registration')[0];
  return reg?.children.find((c) => c.local === 'username')?.text;
}

async function setRole(username: string, role: string) {
  const id = getUserByUsername(emu.app.db, `${username}@demo.commcarehq.org`)!.id;
  const res = await fetch(`${emu.url}/a/demo/api/v0.5/user/${id}/`, {
    method: 'PUT',
    headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ role }),
  });
  expect(res.status).toBeLessThan(300);
}

describe('restore as= (is_permitted_to_restore)', () => {
  it('lets a mobile worker restore as themselves without any permission', async () => {
    const r = await restoreAs(basic('worker1'), 'worker1');
    expect(r.status).toBe(200);
    expect(restoredUser(r.body)).toBe('worker1');
  });

  it('refuses a mobile worker without edit_commcare_users, with HQ text', async () => {
    const r = await restoreAs(basic('worker1'), 'worker2');
    expect(r.status).toBe(401);
    expect(r.body).toBe('worker1@demo.commcarehq.org does not have permission to edit commcare users');
  });

  it("lets a mobile worker whose role edits mobile workers (HQ's Field Implementer) restore as another", async () => {
    await setRole('worker1', 'Field Implementer');
    try {
      const r = await restoreAs(basic('worker1'), 'worker2');
      expect(r.status).toBe(200);
      expect(restoredUser(r.body)).toBe('worker2');
      expect(kids(xml(r.body), 'case').length).toBeGreaterThan(0);
    } finally {
      await setRole('worker1', '');
    }
    expect((await restoreAs(basic('worker1'), 'worker2')).status).toBe(401);
  });

  it('lets a web user of the domain restore as a worker, never as a user of another domain', async () => {
    const r = await restoreAs(ADMIN_KEY, 'worker2@demo.commcarehq.org');
    expect(r.status).toBe(200);
    expect(restoredUser(r.body)).toBe('worker2');
    const foreign = await restoreAs(ADMIN_KEY, 'someone@other.commcarehq.org');
    expect(foreign.status).toBe(401);
  });
});
