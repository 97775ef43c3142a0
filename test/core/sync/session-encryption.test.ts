import { afterEach, describe, expect, it } from 'vitest';
import { unwrapDataKey, type WrappedDataKey } from '../../../src/core/crypto/data-key.ts';
import type { FetchLike } from '../../../src/core/platform.ts';
import { DATA_KEY_META, unlockData } from '../../../src/core/store/data-encryption.ts';
import type { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { login, openOffline, type Session } from '../../../src/core/sync/session.ts';
import { fakeHq, ok, platform, restoreXml, status } from './fake-hq.ts';

/** Encryption at rest through the session: key at login, lock, unlock, re-wrap, migration. */

const CASES = [
  { id: 'hh1', type: 'household', name: 'Dlamini-Secret' },
  { id: 'm1', type: 'member', name: 'Thandi-Secret', parent: 'hh1' },
];
const base = { serverUrl: 'http://hq.test', domain: 'demo', username: 'worker1', password: 'fieldsim' };
const offline = { domain: 'demo', username: 'worker1' };

const sessions: Session[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
});
async function track(p: Promise<Session>): Promise<Session> {
  const s = await p;
  sessions.push(s);
  return s;
}

async function rawDump(db: FieldsimDb): Promise<Buffer> {
  const parts: Buffer[] = [];
  const push = (v: unknown): void => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v));
    else if (v instanceof ArrayBuffer) parts.push(Buffer.from(new Uint8Array(v)));
    else if (typeof v === 'string') parts.push(Buffer.from(v, 'utf8'), Buffer.from(v, 'utf16le'));
    else if (Array.isArray(v)) for (const x of v) push(x);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) push(x);
  };
  for (const t of db.tables) push(await t.toArray());
  return Buffer.concat(parts);
}

const SECRETS = ['Dlamini-Secret', 'Thandi-Secret', 'Riverside-Answer'];
function leaks(dump: Buffer): string[] {
  return SECRETS.filter((s) => dump.includes(Buffer.from(s)) || dump.includes(Buffer.from(s, 'utf16le')));
}

/** SSO accepts `server.password` (the fake HQ itself only knows 'fieldsim'). */
function serverWithPassword(fetch: FetchLike, server: { password: string }): FetchLike {
  return async (input, init) => {
    if (input instanceof Request && input.url.includes('/sso/')) {
      const p = new URLSearchParams(await input.clone().text());
      p.set('password', p.get('password') === server.password ? 'fieldsim' : 'rejected');
      return fetch(new Request(input.url, { method: 'POST', headers: input.headers, body: p.toString() }));
    }
    return fetch(input, init);
  };
}

describe('session with encryption at rest', () => {
  it('login creates the key; data readable in the session, sealed on disk; lock and logout drop the key', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    hq.receiver.push(status(503));
    const p = platform(hq, { encryptAtRest: true });
    const s = await track(login({ ...base, platform: p }));
    expect(s.encryption()).toEqual({ encrypted: true, unlocked: true });
    expect((await s.listCases({ caseType: 'household' })).cases.map((c) => c.caseName)).toEqual([
      'Dlamini-Secret',
    ]);
    await s.registerCase({
      caseType: 'household',
      caseName: 'New',
      properties: { village: 'Riverside-Answer' },
    });
    expect((await s.listCases({ text: 'riverside' })).total).toBe(1);
    expect(leaks(await rawDump(s.db))).toEqual([]);
    const wrapped = (await s.db.meta.get(DATA_KEY_META))?.value as WrappedDataKey;
    expect(wrapped.iterations).toBe(1000);
    s.lock();
    expect(s.encryption()).toEqual({ encrypted: true, unlocked: false });
    await expect(s.listCases()).rejects.toMatchObject({ code: 'data-locked' });
    await expect(s.listOutbox()).rejects.toMatchObject({ code: 'data-locked' });
    await s.unlock('fieldsim');
    expect((await s.listCases()).total).toBe(3);
    s.close();

    // Offline start without a password: locked; a wrong password opens nothing.
    const o = await track(openOffline({ ...offline, platform: p }));
    expect(o.encryption()).toEqual({ encrypted: true, unlocked: false });
    await expect(o.getCase('hh1')).rejects.toMatchObject({ code: 'data-locked' });
    await expect(o.unlock('wrong')).rejects.toMatchObject({ code: 'auth-invalid' });
    await expect(o.getCase('hh1')).rejects.toMatchObject({ code: 'data-locked' });
    await o.unlock('fieldsim');
    expect((await o.getCase('hh1'))?.caseName).toBe('Dlamini-Secret');
    // A database with a key stays encrypted even for a host that did not ask for it.
    o.close();
    const q = await track(
      openOffline({ ...offline, password: 'fieldsim', platform: { ...p, encryptAtRest: false } }),
    );
    expect(q.encryption().encrypted).toBe(true);
    expect((await q.getCase('m1'))?.caseName).toBe('Thandi-Secret');
  });

  it('password changed on the server: the next online login re-wraps; the old password opens nothing', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const server = { password: 'old-pass' };
    const p = platform(hq, { encryptAtRest: true, fetch: serverWithPassword(hq.fetch, server) });
    (await login({ ...base, password: 'old-pass', platform: p })).close();
    server.password = 'new-pass';
    // The server accepts the new password, but it does not open the device's data key,
    // and this server offers no key records (no escrow): the previous password is asked for.
    await expect(login({ ...base, password: 'new-pass', platform: p })).rejects.toMatchObject({
      code: 'password-changed',
    });
    const s = await track(
      login({ ...base, password: 'new-pass', previousPassword: 'old-pass', platform: p }),
    );
    expect((await s.getCase('hh1'))?.caseName).toBe('Dlamini-Secret');
    const wrapped = (await s.db.meta.get(DATA_KEY_META))?.value as WrappedDataKey;
    await expect(unwrapDataKey('old-pass', wrapped)).rejects.toMatchObject({ code: 'wrong-password' });
    s.close();
    const o = await track(openOffline({ ...offline, platform: p }));
    await expect(o.unlock('old-pass')).rejects.toMatchObject({ code: 'auth-invalid' });
    await expect(unlockData(o.db, 'old-pass', { encrypt: true })).rejects.toMatchObject({
      code: 'wrong-password',
    });
    await o.unlock('new-pass');
    expect((await o.listCases()).total).toBe(2);
    // Later logins with the new password need nothing more.
    o.close();
    const again = await track(login({ ...base, password: 'new-pass', platform: p }));
    expect((await again.listCases()).total).toBe(2);
  });

  it('a database written before encryption is migrated at the first unlock, nothing lost', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    hq.receiver.push(status(503));
    const plain = platform(hq);
    const s = await track(login({ ...base, platform: plain }));
    await s.registerCase({
      caseType: 'household',
      caseName: 'Queued',
      properties: { village: 'Riverside-Answer' },
    });
    const xml = (await s.outboxXml((await s.listOutbox())[0]?.instanceId ?? '')) ?? '';
    expect(leaks(await rawDump(s.db)).length).toBe(3);
    s.close();

    const enc = { ...plain, encryptAtRest: true };
    const o = await track(openOffline({ ...offline, platform: enc }));
    // Not migrated yet: without the password it is still the plain database.
    expect(o.encryption().encrypted).toBe(false);
    // A failed migration (the disk refuses a write) leaves the plain database as it was.
    const put = o.db.ledgers.bulkPut.bind(o.db.ledgers);
    o.db.ledgers.bulkPut = (() => Promise.reject(new Error('disk full'))) as unknown as typeof put;
    await expect(o.unlock('fieldsim')).rejects.toThrow();
    o.db.ledgers.bulkPut = put;
    expect(await o.db.meta.get(DATA_KEY_META)).toBeUndefined();
    expect(leaks(await rawDump(o.db)).length).toBe(3);
    o.close();

    const m = await track(openOffline({ ...offline, platform: enc }));
    await m.unlock('fieldsim');
    expect(m.encryption()).toEqual({ encrypted: true, unlocked: true });
    expect(leaks(await rawDump(m.db))).toEqual([]);
    expect((await m.listCases()).total).toBe(3);
    expect((await m.listCases({ text: 'riverside' })).cases.map((c) => c.caseName)).toEqual(['Queued']);
    expect(await m.outboxXml((await m.listOutbox())[0]?.instanceId ?? '')).toBe(xml);
    hq.receiver.push(status(201, ''));
    hq.receiver.splice(0, 1);
    await m.sendOutbox();
    expect(hq.submitted).toContain(xml);
  });
});
