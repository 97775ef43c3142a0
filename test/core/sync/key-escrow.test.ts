import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyEscrow } from '../../../src/core/crypto/key-escrow.ts';
import type { FetchLike } from '../../../src/core/platform.ts';
import { currentKeyRecord, parseKeyRecords } from '../../../src/core/protocol/key-records.ts';
import { DATA_KEY_META, unlockData } from '../../../src/core/store/data-encryption.ts';
import { ESCROW_META } from '../../../src/core/store/escrow-store.ts';
import { login, openOffline, type Session } from '../../../src/core/sync/session.ts';
import { fakeHq, ok, platform, restoreXml } from './fake-hq.ts';

/**
 * Issue 16, password changed on the server: the data key escrowed under HQ's mobile key
 * record (`phone/keys/`) re-wraps the key at the next online login without the old
 * password; without an escrow the typed `password-changed` asks for it.
 */

const CASES = [
  { id: 'hh1', type: 'household', name: 'Dlamini-Secret' },
  { id: 'm1', type: 'member', name: 'Thandi-Secret', parent: 'hh1' },
];
const base = { serverUrl: 'http://hq.test', domain: 'demo', username: 'worker1' };
const offline = { domain: 'demo', username: 'worker1' };

interface Rec {
  uuid: string;
  key: string;
  valid: string;
  expires: string;
}
const newRecord = (uuid: string, valid = '2026-01-01T00:00:00Z', expires = '2027-01-01T00:00:00Z'): Rec => ({
  uuid,
  key: randomBytes(32).toString('base64'),
  valid,
  expires,
});

function keysXml(records: Rec[], issued = '2026-06-01T00:00:00Z', domain = 'demo'): string {
  return (
    '<OpenRosaResponse xmlns="http://openrosa.org/http/response">' +
    '<message nature="submit_success">Here are your keys!</message>' +
    `<auth_keys domain="${domain}" issued="${issued}">` +
    records
      .map(
        (r) =>
          `<key_record valid="${r.valid}" expires="${r.expires}"><uuid>${r.uuid}</uuid><key type="AES256">${r.key}</key></key_record>`,
      )
      .join('') +
    '</auth_keys></OpenRosaResponse>'
  );
}

/**
 * The fake HQ with a changeable password (SSO and Basic on `phone/keys/`) and key records
 * (`null`: the keys URL answers 404, as a server without the view does).
 */
function server() {
  const hq = fakeHq();
  hq.restore.push(ok(restoreXml('tok1', CASES)));
  const state = { password: 'old-pass', records: [newRecord('rec-1')] as Rec[] | null };
  const keyRequests: URL[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.pathname === '/a/demo/api/v0.5/sso/') {
      const p = new URLSearchParams(await req.text());
      p.set('password', p.get('password') === state.password ? 'fieldsim' : 'rejected');
      return hq.fetch(new Request(req.url, { method: 'POST', headers: req.headers, body: p.toString() }));
    }
    if (url.pathname === '/a/demo/phone/keys/') {
      keyRequests.push(url);
      if (state.records === null) return new Response('not found', { status: 404 });
      const basic = atob((req.headers.get('authorization') ?? '').replace(/^Basic /, ''));
      if (basic !== `worker1@demo.commcarehq.org:${state.password}`)
        return new Response(null, { status: 401 });
      return new Response(keysXml(state.records), { headers: { 'content-type': 'text/xml' } });
    }
    return hq.fetch(req);
  };
  return { hq, state, keyRequests, p: platform(hq, { encryptAtRest: true, fetch }) };
}

const sessions: Session[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
});
async function track(p: Promise<Session>): Promise<Session> {
  const s = await p;
  sessions.push(s);
  return s;
}

async function escrowOf(s: Session): Promise<KeyEscrow | undefined> {
  return (await s.db.meta.get(ESCROW_META))?.value as KeyEscrow | undefined;
}

describe('key records (protocol)', () => {
  it('parses HQ payloads, refuses another domain and bad keys, picks the record in force', () => {
    const old = newRecord('a', '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z');
    const cur = newRecord('b', '2026-03-01T00:00:00Z', '2026-07-01T00:00:00Z');
    const set = parseKeyRecords(keysXml([old, cur]), 'demo');
    expect(set.issued).toBe('2026-06-01T00:00:00Z');
    expect(set.records.map((r) => r.uuid)).toEqual(['a', 'b']);
    expect(currentKeyRecord(set)?.uuid).toBe('b');
    expect(currentKeyRecord({ ...set, issued: '2026-02-01T00:00:00Z' })?.uuid).toBe('a');
    expect(currentKeyRecord({ ...set, issued: '2026-08-01T00:00:00Z' })).toBeUndefined();
    expect(() => parseKeyRecords(keysXml([cur], undefined, 'other'), 'demo')).toThrow(/domain "other"/);
    expect(() => parseKeyRecords(keysXml([{ ...cur, key: 'c2hvcnQ=' }]), 'demo')).toThrow(/32 bytes/);
    expect(() => parseKeyRecords('<html>', 'demo')).toThrow(/auth_keys|XML/);
  });
});

describe('key escrow at login', () => {
  it('is created at the first online unlock; a changed password re-wraps through it', async () => {
    const { state, keyRequests, p } = server();
    const s = await track(login({ ...base, password: 'old-pass', platform: p }));
    const escrow = await escrowOf(s);
    expect(escrow).toMatchObject({ format: 'fieldsim-key-escrow-v1', uuid: 'rec-1' });
    expect(JSON.stringify(escrow)).not.toContain(state.records?.[0]?.key);
    const wrapBefore = (await s.db.meta.get(DATA_KEY_META))?.value;
    s.close();

    // Later logins with the same record leave the escrow alone and send last_issued.
    const again = await track(login({ ...base, password: 'old-pass', platform: p }));
    expect(again.unlockOutcome).toBe('opened');
    expect(await escrowOf(again)).toEqual(escrow);
    expect(keyRequests.at(-1)?.searchParams.get('last_issued')).toBe(escrow?.issued);
    again.close();

    state.password = 'new-pass';
    const n = keyRequests.length;
    const s2 = await track(login({ ...base, password: 'new-pass', platform: p }));
    expect(s2.unlockOutcome).toBe('rewrapped');
    expect(keyRequests.length).toBe(n + 1);
    expect((await s2.getCase('hh1'))?.caseName).toBe('Dlamini-Secret');
    expect((await s2.listCases()).total).toBe(2);
    expect((await s2.db.meta.get(DATA_KEY_META))?.value).not.toEqual(wrapBefore);
    s2.close();

    // The old password opens nothing any more; the new one opens offline, with no request.
    const o = await track(openOffline({ ...offline, platform: p }));
    await expect(unlockData(o.db, 'old-pass', { encrypt: true })).rejects.toMatchObject({
      code: 'wrong-password',
    });
    await o.unlock('new-pass');
    expect((await o.listCases()).total).toBe(2);
    expect(keyRequests.length).toBe(n + 1);
  });

  it('a new key record supersedes the old one: the escrow is re-wrapped under it', async () => {
    const { state, p } = server();
    (await login({ ...base, password: 'old-pass', platform: p })).close();
    state.records = [
      newRecord('rec-1', '2026-01-01T00:00:00Z', '2026-05-01T00:00:00Z'),
      newRecord('rec-2', '2026-05-01T00:00:00Z', '2026-07-01T00:00:00Z'),
    ];
    const s = await track(login({ ...base, password: 'old-pass', platform: p }));
    expect((await escrowOf(s))?.uuid).toBe('rec-2');
    s.close();
    state.password = 'new-pass';
    state.records = state.records.slice(1);
    const s2 = await track(login({ ...base, password: 'new-pass', platform: p }));
    expect((await s2.listCases()).total).toBe(2);
  });

  it('without an escrow: password-changed, then previousPassword re-wraps (and escrows)', async () => {
    const { state, p } = server();
    state.records = null;
    (await login({ ...base, password: 'old-pass', platform: p })).close();
    state.password = 'new-pass';
    const err = await login({ ...base, password: 'new-pass', platform: p }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'password-changed', name: 'CryptoError' });
    expect((err as Error).message).toMatch(/password used before/);
    await expect(
      login({ ...base, password: 'new-pass', previousPassword: 'wrong', platform: p }),
    ).rejects.toMatchObject({ code: 'wrong-password' });
    state.records = [newRecord('rec-9')];
    const s = await track(
      login({ ...base, password: 'new-pass', previousPassword: 'old-pass', platform: p }),
    );
    expect((await s.listCases()).total).toBe(2);
    expect((await escrowOf(s))?.uuid).toBe('rec-9');
    s.close();
    const o = await track(openOffline({ ...offline, platform: p }));
    await expect(unlockData(o.db, 'old-pass', { encrypt: true })).rejects.toMatchObject({
      code: 'wrong-password',
    });
  });

  it('keys endpoint 404: no escrow, login and offline unlock as before', async () => {
    const { state, keyRequests, p } = server();
    state.records = null;
    const s = await track(login({ ...base, password: 'old-pass', platform: p }));
    expect(await escrowOf(s)).toBeUndefined();
    expect((await s.listCases()).total).toBe(2);
    expect(keyRequests.length).toBe(1);
    s.close();
    const o = await track(openOffline({ ...offline, password: 'old-pass', platform: p }));
    expect((await o.listCases()).total).toBe(2);
    expect(keyRequests.length).toBe(1);
  });

  it('a tampered escrow row: typed record-integrity; the previous password still re-wraps', async () => {
    const { state, p } = server();
    const s = await track(login({ ...base, password: 'old-pass', platform: p }));
    const escrow = (await escrowOf(s)) as KeyEscrow;
    const bytes = Uint8Array.from(atob(escrow.wrapped), (ch) => ch.charCodeAt(0));
    bytes[3] = (bytes[3] ?? 0) ^ 1;
    await s.db.meta.put({
      key: ESCROW_META,
      value: { ...escrow, wrapped: btoa(String.fromCharCode(...bytes)) },
    });
    s.close();
    state.password = 'new-pass';
    const err = await login({ ...base, password: 'new-pass', platform: p }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'record-integrity', table: 'meta', recordKey: ESCROW_META });
    const s2 = await track(
      login({ ...base, password: 'new-pass', previousPassword: 'old-pass', platform: p }),
    );
    expect((await s2.listCases()).total).toBe(2);
    // The damaged row was replaced by one that opens: a second change needs no old password.
    expect((await escrowOf(s2))?.wrapped).not.toBe(escrow.wrapped);
    s2.close();
    state.password = 'third-pass';
    const s3 = await track(login({ ...base, password: 'third-pass', platform: p }));
    expect((await s3.getCase('m1'))?.caseName).toBe('Thandi-Secret');
  });

  it('an escrow swapped in from another record uuid does not open (AAD binds the uuid)', async () => {
    const { state, p } = server();
    const s = await track(login({ ...base, password: 'old-pass', platform: p }));
    const escrow = (await escrowOf(s)) as KeyEscrow;
    s.close();
    // Relabel the row with another record's uuid, which the server then offers.
    const other = newRecord('rec-x');
    state.records = [{ ...other, key: state.records?.[0]?.key ?? '' }];
    const db = await track(openOffline({ ...offline, platform: p }));
    await db.db.meta.put({ key: ESCROW_META, value: { ...escrow, uuid: 'rec-x' } });
    db.close();
    state.password = 'new-pass';
    await expect(login({ ...base, password: 'new-pass', platform: p })).rejects.toMatchObject({
      code: 'record-integrity',
    });
  });
});
