import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/server/db/database.ts';
import { fetchKeyRecords } from '../../../src/server/mobile-auth/key-records.ts';
import { setKeyRecords } from '../../../src/server/mobile-auth/keys-routes.ts';
import { changePassword } from '../../helpers/change-password.ts';
import { type StartedEmulator, startEmulator } from '../../helpers/start-emulator.ts';
import { basic, kids, xml } from '../helpers.ts';

/** HQ's mobile key records (hq:corehq/apps/mobile_auth): `phone/keys/` and `phone/admin_keys/`. */

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

const DAY = 24 * 3600 * 1000;
const W1 = 'worker1@demo.commcarehq.org';

function keys(auth: string | null, query = '', path = 'keys'): Promise<Response> {
  return fetch(`${emu.url}/a/demo/phone/${path}/${query}`, auth ? { headers: { authorization: auth } } : {});
}

interface Parsed {
  domain: string;
  issued: string;
  records: { uuid: string; key: string; type: string; valid: string; expires: string }[];
}

async function parsed(res: Response): Promise<Parsed> {
  expect(res.status).toBe(200);
  const root = xml(await res.text());
  expect(root.local).toBe('OpenRosaResponse');
  expect(root.ns).toBe('http://openrosa.org/http/response');
  const msg = kids(root, 'message')[0];
  expect(msg?.attrs.nature).toBe('submit_success');
  expect(msg?.text).toBe('Here are your keys!');
  const ak = kids(root, 'auth_keys')[0];
  if (!ak) throw new Error('no auth_keys');
  return {
    domain: ak.attrs.domain ?? '',
    issued: ak.attrs.issued ?? '',
    records: kids(ak, 'key_record').map((r) => {
      const key = kids(r, 'key')[0];
      return {
        uuid: kids(r, 'uuid')[0]?.text ?? '',
        key: key?.text ?? '',
        type: key?.attrs.type ?? '',
        valid: r.attrs.valid ?? '',
        expires: r.attrs.expires ?? '',
      };
    }),
  };
}

describe('GET /a/<domain>/phone/keys/', () => {
  it('answers HQ’s CentralAuthAPI payload: one AES256 record, valid 30 days back, expiry 30 days on', async () => {
    const res = await keys(basic(W1));
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const p = await parsed(res);
    expect(p.domain).toBe('demo');
    expect(p.issued).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(p.issued) - Date.now())).toBeLessThan(5000);
    expect(p.records).toHaveLength(1);
    const [r] = p.records;
    expect(r?.uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(r?.type).toBe('AES256');
    expect(Buffer.from(r?.key ?? '', 'base64')).toHaveLength(32);
    expect(Date.parse(p.issued) - Date.parse(r?.valid ?? '')).toBeGreaterThanOrEqual(30 * DAY - 1000);
    expect(Date.parse(r?.expires ?? '') - Date.parse(p.issued)).toBeLessThanOrEqual(30 * DAY);
    expect(Date.parse(r?.expires ?? '') - Date.parse(p.issued)).toBeGreaterThan(30 * DAY - 2000);
    // The same record on every later fetch, and another user gets another key.
    const again = await parsed(await keys(basic(W1)));
    expect(again.records).toEqual(p.records);
    const other = await parsed(await keys(basic('worker2@demo.commcarehq.org')));
    expect(other.records[0]?.key).not.toBe(r?.key);
    expect(other.records[0]?.uuid).not.toBe(r?.uuid);
  });

  it('needs phone credentials (Basic, API key), GET only', async () => {
    const none = await keys(null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await keys(basic(W1, 'wrong'))).status).toBe(401);
    const viaKey = await parsed(await keys('ApiKey admin@example.com:fieldsim-demo-key'));
    expect(viaKey.records).toHaveLength(1);
    const post = await fetch(`${emu.url}/a/demo/phone/keys/`, {
      method: 'POST',
      headers: { authorization: basic(W1) },
    });
    expect(post.status).toBe(405);
    // A user of another domain is not let in.
    expect(
      (await fetch(`${emu.url}/a/other/phone/keys/`, { headers: { authorization: basic(W1) } })).status,
    ).not.toBe(200);
  });

  it('last_issued returns the record valid then, before the current one', async () => {
    const first = await parsed(await keys(basic(W1)));
    const old = first.records[0];
    // A newer record for worker1 (HQ makes one when none is valid; here inserted directly).
    const { id } = emu.app.db.prepare('SELECT id FROM users WHERE username = ?').get(W1) as { id: string };
    const newValid = new Date(Date.now() - DAY).toISOString();
    emu.app.db
      .prepare(
        "INSERT INTO mobile_auth_key_records (id, domain, user_id, valid, expires, type, key) VALUES ('newrec', 'demo', ?, ?, ?, 'AES256', ?)",
      )
      .run(
        id,
        newValid,
        new Date(Date.now() + 10 * DAY).toISOString(),
        Buffer.alloc(32, 7).toString('base64'),
      );
    const now = await parsed(await keys(basic(W1)));
    expect(now.records.map((r) => r.uuid)).toEqual(['newrec']);
    const since = new Date(Date.now() - 10 * DAY).toISOString();
    const both = await parsed(await keys(basic(W1), `?last_issued=${encodeURIComponent(since)}`));
    expect(both.records.map((r) => r.uuid)).toEqual([old?.uuid, 'newrec']);
    expect(both.records[0]?.key).toBe(old?.key);
    // last_issued inside the current record's validity: it alone, once.
    const same = await parsed(await keys(basic(W1), `?last_issued=${encodeURIComponent(now.issued)}`));
    expect(same.records.map((r) => r.uuid)).toEqual(['newrec']);
    // Before any record was valid: only the current one.
    const before = await parsed(await keys(basic(W1), '?last_issued=2001-01-01T00:00:00Z'));
    expect(before.records.map((r) => r.uuid)).toEqual(['newrec']);
    expect((await keys(basic(W1), '?last_issued=yesterday')).status).toBe(400);
  });

  it('keeps the key across a password change (it is the user’s, not the password’s)', async () => {
    const W2 = 'worker2@demo.commcarehq.org';
    const before = await parsed(await keys(basic(W2)));
    await changePassword(emu.url, 'worker2', 'changed-pw');
    expect((await keys(basic(W2))).status).toBe(401);
    const after = await parsed(await keys(basic(W2, 'changed-pw')));
    expect(after.records).toEqual(before.records);
  });
});

describe('GET /a/<domain>/phone/admin_keys/?as=', () => {
  it("gives a domain admin a worker's records; 403 for others, 404 for an unknown user", async () => {
    const own = await parsed(await keys(basic('worker2@demo.commcarehq.org', 'changed-pw')));
    const admin = basic('admin@example.com');
    const viaAdmin = await parsed(await keys(admin, '?as=worker2@demo.commcarehq.org', 'admin_keys'));
    expect(viaAdmin.records).toEqual(own.records);
    expect((await parsed(await keys(admin, '?as=worker2', 'admin_keys'))).records).toEqual(own.records);
    expect((await keys(basic(W1), '?as=worker2', 'admin_keys')).status).toBe(403);
    expect((await keys(admin, '?as=nobody', 'admin_keys')).status).toBe(404);
    expect((await keys(admin, '', 'admin_keys')).status).toBe(404);
    expect((await keys(null, '?as=worker2', 'admin_keys')).status).toBe(401);
  });
});

describe('key records off', () => {
  it('answers 404 like a server without the view, and can be turned back on', async () => {
    const off = await startEmulator({ keyRecords: false });
    try {
      const get = () => fetch(`${off.url}/a/demo/phone/keys/`, { headers: { authorization: basic(W1) } });
      expect((await get()).status).toBe(404);
      setKeyRecords(off.app.hq, true);
      expect((await get()).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});

describe('expiry (bump_expiry)', () => {
  it('moves an expired record on in 30-day steps and keeps its key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-keys-'));
    const db = openDatabase(dir);
    try {
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const [a] = fetchKeyRecords(db, 'demo', 'u1', t0);
      expect(a?.valid).toBe('2025-12-02T00:00:00.000Z');
      expect(a?.expires).toBe('2026-01-31T00:00:00.000Z');
      const [b] = fetchKeyRecords(db, 'demo', 'u1', t0 + 75 * DAY);
      expect(b?.id).toBe(a?.id);
      expect(b?.key).toBe(a?.key);
      expect(b?.expires).toBe('2026-04-01T00:00:00.000Z');
      // last_issued in the record's validity: the same record once.
      expect(fetchKeyRecords(db, 'demo', 'u1', t0 + 80 * DAY, t0)).toHaveLength(1);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
