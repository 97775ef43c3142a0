import { afterEach, describe, expect, it } from 'vitest';
import { type SpawnedEmulator, spawnEmulator } from '../helpers/spawn-emulator.ts';

/**
 * The emulator's `FIELDSIM_KEY_RECORDS=off` contract (README, docs/emulator.md), driven as a
 * user sets it: the environment of `src/server/main.ts`. On, `phone/keys/` answers HQ's
 * key records; off, both key URLs answer 404 like a server without the view.
 */

let emu: SpawnedEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const WORKER = `Basic ${Buffer.from('worker1@demo.commcarehq.org:fieldsim').toString('base64')}`;

async function keys(base: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${base}/a/demo/phone/keys/`, { headers: { authorization: WORKER } });
  return { status: r.status, body: await r.text() };
}

describe('FIELDSIM_KEY_RECORDS', () => {
  it('serves key records by default', async () => {
    emu = await spawnEmulator();
    const r = await keys(emu.url);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<auth_keys domain="demo"[^>]*>\s*<key_record /);
    expect(r.body).toMatch(/<key type="AES256">[A-Za-z0-9+/]{43}=<\/key>/);
  }, 60_000);

  it('=off: phone/keys/ and phone/admin_keys/ answer 404', async () => {
    emu = await spawnEmulator({ env: { FIELDSIM_KEY_RECORDS: 'off' } });
    expect((await keys(emu.url)).status).toBe(404);
    const admin = await fetch(`${emu.url}/a/demo/phone/admin_keys/?as=worker1`, {
      headers: { authorization: `Basic ${Buffer.from('admin@example.com:fieldsim').toString('base64')}` },
    });
    expect(admin.status).toBe(404);
  }, 60_000);
});
