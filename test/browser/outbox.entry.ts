/**
 * Browser side of the outbox tests: the real core over Chromium's IndexedDB, the page's
 * fetch (same-origin, through the test proxy) and Web Locks as the cross-tab lock.
 */
import { login, openOffline, type Session, type SessionPlatform } from '../../src/core/index.ts';

const platform: SessionPlatform = {
  indexedDB: { indexedDB, IDBKeyRange },
  fetch: (input, init) => fetch(input, init),
  lock: <T>(name: string, fn: () => Promise<T>) => navigator.locks.request(name, fn) as Promise<T>,
  isOnline: () => navigator.onLine,
  pbkdf2Iterations: 10_000,
};

let session: Session | undefined;

async function loginAndSave(count: number): Promise<string[]> {
  session = await login({
    serverUrl: location.origin,
    domain: 'demo',
    username: 'worker1',
    password: 'fieldsim',
    platform,
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { item } = await session.registerCase({ caseType: 'household', caseName: `Tab ${i}` });
    ids.push(item.instanceId);
  }
  return ids;
}

async function reopen(): Promise<{ instanceId: string; state: string; attempts: number }[]> {
  session = await openOffline({ domain: 'demo', username: 'worker1', password: 'fieldsim', platform });
  // openOffline with a password starts the outbox: recovery of `sending`, then a send run.
  await session.sendOutbox();
  return (await session.listOutbox()).map((i) => ({
    instanceId: i.instanceId,
    state: i.state,
    attempts: i.attempts,
  }));
}

async function states(): Promise<string[]> {
  if (!session) session = await openOffline({ domain: 'demo', username: 'worker1', platform });
  return (await session.listOutbox()).map((i) => i.state);
}

/** What the PWA does: the `online` event triggers the outbox (issue 4 triggers). */
addEventListener('online', () => {
  void session?.outbox.onOnline();
});

async function saveMany(count: number): Promise<string[]> {
  if (!session) throw new Error('log in first');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const item = await session.updateCase({
      caseId: (await firstCaseId()) ?? '',
      properties: { n: String(i) },
    });
    ids.push(item.instanceId);
  }
  return ids;
}

async function firstCaseId(): Promise<string | undefined> {
  return (await session?.listCases({ caseType: 'household', status: 'open', limit: 1 }))?.cases[0]?.caseId;
}

async function waitAllSent(timeoutMs: number): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await states();
    if (s.every((x) => x === 'sent') || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

declare global {
  var fieldsimOutbox: {
    loginAndSave: typeof loginAndSave;
    reopen: typeof reopen;
    states: typeof states;
    saveMany: typeof saveMany;
    waitAllSent: typeof waitAllSent;
  };
}
globalThis.fieldsimOutbox = { loginAndSave, reopen, states, saveMany, waitAllSent };
