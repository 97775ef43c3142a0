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

declare global {
  var fieldsimOutbox: { loginAndSave: typeof loginAndSave; reopen: typeof reopen; states: typeof states };
}
globalThis.fieldsimOutbox = { loginAndSave, reopen, states };
