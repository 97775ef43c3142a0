import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Clock,
  login,
  type RestoreProgress,
  type Session,
  type SessionPlatform,
} from '../../src/core/index.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The network restore flow of issue 3 against the emulator: async restore (202 with
 * progress), the state hash check and a forced 412 answered by a fresh restore that keeps
 * unsent forms, and a network failure leaving the database as it was.
 */

let hq: StartedEmulator | undefined;
const sessions: Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await hq?.close();
  hq = undefined;
});

/** Sleeps are recorded and skipped, so the test does not wait out Retry-After for real. */
function fastClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => Date.now(), sleep: async (ms) => void slept.push(ms) };
}

function device(extra: Partial<SessionPlatform> = {}): SessionPlatform {
  return { indexedDB: { indexedDB: new IDBFactory(), IDBKeyRange }, pbkdf2Iterations: 10_000, ...extra };
}

async function open(platform: SessionPlatform, onProgress?: (p: RestoreProgress) => void): Promise<Session> {
  const s = await login({
    serverUrl: hq!.url,
    domain: 'demo',
    username: 'worker1',
    password: 'fieldsim',
    platform,
    ...(onProgress ? { onProgress } : {}),
  });
  sessions.push(s);
  return s;
}

describe('restore flow against the emulator (issue 3, network part)', () => {
  it('async restore: 202 with progress and Retry-After, then the payload', async () => {
    hq = await startEmulator({ settings: { asyncRestoreThreshold: 0, asyncRetryAfter: 2, asyncPolls: 3 } });
    const clock = fastClock();
    const progress: RestoreProgress[] = [];
    const s = await open(device({ clock }), (p) => progress.push({ ...p }));
    const waiting = progress.filter((p) => p.phase === 'waiting');
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    expect(waiting[0]?.serverProgress?.done).toBe(0);
    expect(waiting[0]?.serverProgress?.total).toBeGreaterThan(0);
    expect(clock.slept.every((ms) => ms === 2000)).toBe(true);
    expect((await s.listCases()).total).toBeGreaterThan(10);
    expect(progress.at(-1)?.phase).not.toBe('waiting');
  });

  it('a local case the server does not know breaks the state hash: 412, fresh restore, one switch', async () => {
    hq = await startEmulator();
    const s = await open(device());
    const before = (await s.listCases({ limit: 1000 })).total;
    // A case the server never heard of (as if a form had been lost): the hash no longer matches.
    await s.caseDb.applyBlocks([
      {
        caseId: 'phantom-1',
        userId: s.info.userId,
        dateModified: '2026-01-01T00:00:00Z',
        actions: [{ kind: 'create', caseType: 'household', caseName: 'Phantom' }],
      },
    ]);
    const r = await s.sync();
    expect(r.mode).toBe('recovered');
    expect(await s.getCase('phantom-1')).toBeUndefined();
    expect((await s.listCases({ limit: 1000 })).total).toBe(before);
    // The next sync is a plain incremental one again.
    expect((await s.sync()).mode).toBe('incremental');
  });

  it('forced 412 with an unsent form: recovered, the form kept, re-applied, then delivered', async () => {
    hq = await startEmulator();
    const s = await open(device());
    hq.app.setFaults({ error500: 1, error429: 0, dropAfterStore: 0, latencyMs: 0 });
    const { caseId, item } = await s.registerCase({ caseType: 'household', caseName: 'Not yet sent' });
    expect((await s.sendOutbox()).stoppedBy?.code).toBe('server-error');
    hq.app.setFaults({ error500: 0, error429: 0, dropAfterStore: 0, latencyMs: 0 });
    hq.app.db.prepare("UPDATE users SET force_412 = 1 WHERE username LIKE 'worker1%'").run();
    const r = await s.sync();
    expect(r.mode).toBe('recovered');
    expect((await s.getCase(caseId))?.caseName).toBe('Not yet sent');
    expect((await s.listOutbox()).map((i) => [i.instanceId, i.state])).toEqual([[item.instanceId, 'queued']]);
    const report = await s.syncAndSend();
    expect(report.send).toMatchObject({ sent: 1, remaining: 0 });
    expect(report.restore?.mode).toBe('incremental');
    expect((await s.getCase(caseId))?.caseName).toBe('Not yet sent');
  });

  it('a connection dropped during the restore leaves the database as it was', async () => {
    hq = await startEmulator();
    const s = await open(device());
    const token = await s.syncToken();
    const count = (await s.listCases({ limit: 1000 })).total;
    hq.app.setFaults({ error500: 0, error429: 0, dropAfterStore: 1, latencyMs: 0 });
    await expect(s.restore()).rejects.toMatchObject({ name: 'NetworkError' });
    hq.app.setFaults({ error500: 1, error429: 0, dropAfterStore: 0, latencyMs: 0 });
    await expect(s.sync()).rejects.toMatchObject({ code: 'server-error' });
    expect(await s.syncToken()).toBe(token);
    expect((await s.listCases({ limit: 1000 })).total).toBe(count);
  });
});
