import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { login, openOffline, type Session, type SessionPlatform } from '../../src/core/index.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * Issue 6, "Log in as" (Web Apps' login as, PROTOCOL.md 3.2): the web user authenticates,
 * the data is the worker's. Restores carry `as=`, forms carry the worker's username and
 * userID, and the pair's database never mixes with the worker's own.
 */

let hq: StartedEmulator;
const sessions: Session[] = [];

beforeEach(async () => {
  hq = await startEmulator();
});
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await hq.close();
});

function device(): SessionPlatform {
  return { indexedDB: { indexedDB: new IDBFactory(), IDBKeyRange }, pbkdf2Iterations: 10_000 };
}

function userId(username: string): string {
  const row = hq.app.db.prepare('SELECT id FROM users WHERE username = ?').get(username) as { id: string };
  return row.id;
}

async function track(p: Promise<Session>): Promise<Session> {
  const s = await p;
  sessions.push(s);
  return s;
}

describe('login as (issue 6)', () => {
  it("restores the worker's cases with the web user's credentials and submits forms in the worker's name", async () => {
    const restoreUrls: URL[] = [];
    const platform: SessionPlatform = {
      ...device(),
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.pathname.includes('/phone/restore/')) restoreUrls.push(url);
        return fetch(input, init);
      },
    };
    const worker1Id = userId('worker1@demo.commcarehq.org');
    const adminId = userId('admin@example.com');
    const s = await track(
      login({
        serverUrl: hq.url,
        domain: 'demo',
        username: 'admin@example.com',
        password: 'fieldsim',
        loginAs: 'worker1',
        platform,
      }),
    );
    expect(s.info).toMatchObject({
      username: 'worker1@demo.commcarehq.org',
      userId: worker1Id,
      authenticatedAs: { username: 'admin@example.com', userId: adminId },
    });

    // The same cases a worker1 device restores.
    const own = await track(
      login({
        serverUrl: hq.url,
        domain: 'demo',
        username: 'worker1',
        password: 'fieldsim',
        platform: device(),
      }),
    );
    const asCases = await s.listCases({ status: 'all', limit: 1000 });
    expect(asCases.total).toBe((await own.listCases({ status: 'all', limit: 1000 })).total);
    expect(asCases.total).toBeGreaterThan(0);

    const { caseId, item } = await s.registerCase({
      caseType: 'household',
      caseName: 'Registered As Worker',
    });
    expect((await s.sendOutbox()).remaining).toBe(0);
    expect(restoreUrls.length).toBeGreaterThan(0);
    for (const u of restoreUrls) {
      expect(u.searchParams.get('as')).toBe('worker1@demo.commcarehq.org');
      // Like formplayer, no user_id= on login-as restores.
      expect(u.searchParams.has('user_id')).toBe(false);
    }
    const form = hq.app.db
      .prepare('SELECT username, user_id, auth_user_id FROM forms WHERE form_id = ?')
      .get(item.instanceId);
    expect(form).toEqual({ username: 'worker1', user_id: worker1Id, auth_user_id: adminId });
    const kase = hq.app.db.prepare('SELECT owner_id FROM cases WHERE case_id = ?').get(caseId);
    expect(kase).toEqual({ owner_id: worker1Id });

    // The next sync keeps restoring as worker1 and keeps the new case. The emulator updates
    // only the submitter's own sync log (src/server/receiver/submit.ts), and the submitter
    // here is the web user, so the state check may answer 412 and the session then
    // recovers with a fresh restore as worker1 (both outcomes leave the same data).
    const synced = await s.sync();
    expect(['incremental', 'recovered']).toContain(synced.mode);
    expect((await s.getCase(caseId))?.caseName).toBe('Registered As Worker');
    expect(s.info.userId).toBe(worker1Id);
  });

  it('keeps the pair apart from the worker on the same device, and reopens offline with the web password', async () => {
    const platform = device();
    const as = await track(
      login({
        serverUrl: hq.url,
        domain: 'demo',
        username: 'admin@example.com',
        password: 'fieldsim',
        loginAs: 'worker1@demo.commcarehq.org',
        platform,
        outbox: { autoRetry: false },
      }),
    );
    await hq.close();
    // Server gone: the form waits in the pair's outbox.
    await as.registerCase({ caseType: 'household', caseName: 'Only In The Pair' });
    as.close();
    sessions.splice(sessions.indexOf(as), 1);
    hq = await startEmulator();

    const own = await track(
      login({ serverUrl: hq.url, domain: 'demo', username: 'worker1', password: 'fieldsim', platform }),
    );
    expect((await own.listOutbox()).length).toBe(0);
    expect((await own.listCases({ namePrefix: 'Only In The Pair' })).total).toBe(0);
    own.close();
    sessions.splice(sessions.indexOf(own), 1);

    const reopened = await track(
      openOffline({
        domain: 'demo',
        username: 'admin@example.com',
        loginAs: 'worker1',
        password: 'fieldsim',
        platform,
      }),
    );
    expect(reopened.info.username).toBe('worker1@demo.commcarehq.org');
    expect(reopened.info.authenticatedAs?.username).toBe('admin@example.com');
    expect(reopened.info.userId).toBe(as.info.userId);
    expect((await reopened.listOutbox(['queued'])).length).toBe(1);
    await expect(
      openOffline({
        domain: 'demo',
        username: 'admin@example.com',
        loginAs: 'worker1',
        password: 'nope',
        platform,
      }),
    ).rejects.toMatchObject({ code: 'auth-invalid' });
  });

  it("refuses a worker the server doesn't know (401 Invalid restore as user)", async () => {
    await expect(
      login({
        serverUrl: hq.url,
        domain: 'demo',
        username: 'admin@example.com',
        password: 'fieldsim',
        loginAs: 'nobody',
        platform: device(),
      }),
    ).rejects.toMatchObject({ code: 'auth-invalid' });
  });
});
