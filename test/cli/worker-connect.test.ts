import { afterEach, describe, expect, it } from 'vitest';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { Session, sessionDatabaseName } from '../../src/core/sync/session.ts';
import type { SessionInfo } from '../../src/core/sync/session-types.ts';
import { fakeHq, ok, platform, restoreXml } from '../core/sync/fake-hq.ts';

/**
 * `Session.connect` (what the CLI's worker commands use): credentials without the local
 * password check and without an immediate send; API keys go out as `Authorization:
 * ApiKey`, and a login-as session talks with the web user's secret for the worker's data.
 */

const open: Session[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function session(hq: ReturnType<typeof fakeHq>, info: Partial<SessionInfo> = {}): Promise<Session> {
  const p = platform(hq);
  const full: SessionInfo = {
    serverUrl: 'https://hq.example',
    domain: 'demo',
    username: 'worker1@demo.commcarehq.org',
    userId: 'u1',
    deviceId: 'dev-1',
    ...info,
  };
  const name = sessionDatabaseName(
    full.domain,
    full.authenticatedAs?.username ?? full.username,
    full.authenticatedAs ? full.username : undefined,
  );
  const db = new FieldsimDb(name, p.indexedDB);
  await db.open();
  const s = new Session(db, p, { outbox: { autoRetry: false } }, full);
  open.push(s);
  return s;
}

describe('Session.connect', () => {
  it('sends nothing until asked; the API key authenticates the send and the restore', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('t1', [])));
    const s = await session(hq);
    await s.registerCase({ caseType: 'household', caseName: 'Offline' });
    expect(s.canSend()).toBe(false);
    s.connect({ apiKey: 'k-123' });
    expect(s.canSend()).toBe(true);
    // A save triggers no send by itself with autoRetry off; connect adds none.
    await new Promise((r) => setTimeout(r, 20));
    expect(hq.fetch.calls).toHaveLength(0);

    const report = await s.sendOutbox();
    expect(report).toMatchObject({ sent: 1, remaining: 0 });
    await s.sync();
    expect(hq.fetch.calls.map((c) => new URL(c.url).pathname)).toEqual([
      '/a/demo/receiver/',
      '/a/demo/phone/restore/',
    ]);
    for (const c of hq.fetch.calls)
      expect(c.headers.get('authorization')).toBe('ApiKey worker1@demo.commcarehq.org:k-123');
  });

  it("a password is not checked locally (there may be no verifier); login as uses the web user's", async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('t1', [])));
    const s = await session(hq, { authenticatedAs: { username: 'admin@example.com', userId: 'a1' } });
    s.connect({ password: 'secret' });
    await s.restore();
    const [call] = hq.restoreRequests();
    expect(new URL(call?.url ?? '').searchParams.get('as')).toBe('worker1@demo.commcarehq.org');
    expect(call?.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('admin@example.com:secret').toString('base64')}`,
    );
  });

  it('refuses a closed session', async () => {
    const s = await session(fakeHq());
    s.close();
    expect(() => s.connect({ apiKey: 'k' })).toThrow(/closed/);
  });
});
