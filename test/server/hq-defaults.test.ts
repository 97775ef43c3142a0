import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, kids, xml } from './helpers.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

const admin = basic('admin@example.com');
const formCount = () => (emu.app.db.prepare('SELECT COUNT(*) AS n FROM forms').get() as { n: number }).n;

async function api(method: string, path: string, body: unknown) {
  const res = await fetch(`${emu.url}/a/demo/api/v0.5/${path}`, {
    method,
    headers: { authorization: admin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as { id: string };
}

describe('demo-mode submissions (submit_mode=demo)', () => {
  it('are accepted without credentials, answered as ignored, and never stored or processed', async () => {
    const before = formCount();
    const form = `<data xmlns="http://example.org/demo"><case xmlns="http://commcarehq.org/case/transaction/v2" case_id="demo-case" date_modified="2026-01-01T00:00:00Z" user_id="x"><create><case_type>t</case_type><case_name>n</case_name><owner_id>x</owner_id></create></case><meta xmlns="http://openrosa.org/jr/xforms"><instanceID>demo-form-1</instanceID></meta></data>`;
    const res = await fetch(`${emu.url}/a/demo/receiver/?submit_mode=demo`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const msg = kids(xml(await res.text()), 'message')[0]!;
    expect(msg.attrs.nature).toBe('submit_success');
    expect(msg.text).toBe('√ (this submission was ignored)');
    expect(formCount()).toBe(before);
    expect(emu.app.db.prepare("SELECT 1 FROM cases WHERE case_id = 'demo-case'").get()).toBeUndefined();
    // Without submit_mode the same form needs credentials.
    expect((await fetch(`${emu.url}/a/demo/receiver/`, { method: 'POST', body: form })).status).toBe(401);
  });
});

describe('location-restricted restore as', () => {
  it('a non-admin web user with locations restores only as users at those locations', async () => {
    const loc = (emu.app.db.prepare("SELECT id FROM locations WHERE domain = 'demo'").get() as { id: string })
      .id;
    await api('post', 'web-user/', { email: 'field@example.com', password: 'field-pw', locations: [loc] });
    await api('post', 'user/', { username: 'faraway', password: 'far-pw' });
    const restore = (as: string, auth: string) =>
      fetch(`${emu.url}/a/demo/phone/restore/?as=${encodeURIComponent(as)}`, {
        headers: { authorization: auth },
      });
    const field = basic('field@example.com', 'field-pw');
    const near = await restore('worker1', field);
    expect(near.status).toBe(200);
    await near.body?.cancel();
    const far = await restore('faraway', field);
    expect(far.status).toBe(401);
    expect(await far.text()).toBe('Restore user faraway@demo.commcarehq.org not in allowed locations');
    // The admin is never location-restricted.
    const adm = await restore('faraway', admin);
    expect(adm.status).toBe(200);
    await adm.body?.cancel();
  });
});

describe('restore caching (--restore-cache)', () => {
  const restoreId = (body: string) => /<restore_id>([^<]+)<\/restore_id>/.exec(body)?.[1];
  async function full(base: string, query = '') {
    const res = await fetch(`${base}/a/demo/phone/restore/?version=2.0&device_id=d1${query}`, {
      headers: { authorization: basic('worker1') },
    });
    expect(res.status).toBe(200);
    return res.text();
  }

  it('is off by default: every full restore is a new payload', async () => {
    expect(restoreId(await full(emu.url))).not.toBe(restoreId(await full(emu.url)));
  });

  it('serves the same payload to repeated full restores until overwrite_cache or a form of the user', async () => {
    const cachedEmu = await startEmulator({ settings: { restoreCacheSeconds: 60 } });
    try {
      const first = await full(cachedEmu.url);
      expect(await full(cachedEmu.url)).toBe(first);
      const fresh = await full(cachedEmu.url, '&overwrite_cache=true');
      expect(restoreId(fresh)).not.toBe(restoreId(first));
      expect(await full(cachedEmu.url)).toBe(fresh);
      // Another device is another cache entry.
      const other = await fetch(`${cachedEmu.url}/a/demo/phone/restore/?version=2.0&device_id=d2`, {
        headers: { authorization: basic('worker1') },
      });
      expect(restoreId(await other.text())).not.toBe(restoreId(fresh));
      const post = await fetch(`${cachedEmu.url}/a/demo/receiver/`, {
        method: 'POST',
        headers: { authorization: basic('worker1'), 'content-type': 'text/xml' },
        body: '<data xmlns="http://example.org/cache"><meta xmlns="http://openrosa.org/jr/xforms"><instanceID>cache-form-1</instanceID></meta></data>',
      });
      expect(post.status).toBe(201);
      expect(restoreId(await full(cachedEmu.url))).not.toBe(restoreId(fresh));
    } finally {
      await cachedEmu.close();
    }
  });
});
