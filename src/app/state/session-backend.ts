import { readDeviceData } from '../../core/apps/read-device-data.ts';
import { isEncryptedExport, openExport, sealExport } from '../../core/crypto/export-envelope.ts';
import {
  FieldsimError,
  type FullIngest,
  isNetworkError,
  login,
  type OutboxExport,
  openOffline,
  type Session,
  type SessionPlatform,
} from '../../core/index.ts';
import { getFixture } from '../../core/store/fixtures.ts';
import { browserLock, loggingFetch, networkSimulation } from '../platform/browser-platform.ts';
import { pwaFullIngest } from '../restore-worker/pwa-ingest.ts';
import { stopRestoreWorkers } from '../restore-worker/worker-ingest.ts';
import type { AppBackend, BackendFactory, LoginInput } from './app-backend.ts';
import { ownerNamesFrom } from './owner-names.ts';

/**
 * The app's backend over the core `Session`. The browser supplies the platform: real
 * IndexedDB, fetch wrapped with the Diagnostics log and network simulator, Web Locks so one
 * tab sends at a time, `navigator.onLine`, and WebCrypto for the offline password verifier.
 *
 * Credentials live in memory only (DESIGN.md 4). What survives a reload is a pointer to
 * the last user (domain and username, never the password) so the app can reopen that
 * user's database offline. The database is encrypted at rest, so a reload shows the lock
 * screen: the password, checked locally against the stored verifier, unwraps the data key
 * and allows sending (`Session.unlock`). A database written before encryption (plain)
 * opens at once, sending waits for the password, and that unlock migrates it.
 */
const LAST_USER_KEY = 'fieldsim:last-user';

interface LastUser {
  domain: string;
  /** The user who authenticates (the web user in a "login as" session). */
  username: string;
  /** The worker of a "login as" session. */
  loginAs?: string;
}

function readLastUser(): LastUser | null {
  try {
    const raw = localStorage.getItem(LAST_USER_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<LastUser>;
    if (typeof v.domain !== 'string' || typeof v.username !== 'string') return null;
    return typeof v.loginAs === 'string'
      ? { domain: v.domain, username: v.username, loginAs: v.loginAs }
      : { domain: v.domain, username: v.username };
  } catch {
    return null;
  }
}

function writeLastUser(u: LastUser | null): void {
  try {
    if (u) localStorage.setItem(LAST_USER_KEY, JSON.stringify(u));
    else localStorage.removeItem(LAST_USER_KEY);
  } catch {
    // Storage disabled: the next start shows the login screen.
  }
}

export function browserSessionPlatform(): SessionPlatform {
  return {
    indexedDB: { indexedDB: globalThis.indexedDB, IDBKeyRange: globalThis.IDBKeyRange },
    fetch: loggingFetch(),
    lock: browserLock(),
    isOnline: () => navigator.onLine && !networkSimulation.value.offline,
    crypto: globalThis.crypto,
    // Cases, fixtures and forms are sealed with a key wrapped by the password (docs/pwa.md,
    // "Encryption at rest"); a reload opens the lock screen until the password is typed.
    encryptAtRest: true,
    // Full restores parse and write in a Web Worker (docs/pwa.md, "Restore in a Web Worker").
    ...withRestoreWorker(),
  };
}

function withRestoreWorker(): { fullIngest?: FullIngest } {
  const fullIngest = pwaFullIngest();
  return fullIngest ? { fullIngest } : {};
}

const APP_VERSION = 'fieldsim-pwa/0.1.0';

function parseExport(json: string): OutboxExport {
  const data = JSON.parse(json) as Partial<OutboxExport>;
  if (data.format !== 'fieldsim-outbox' || data.version !== 1 || !Array.isArray(data.forms))
    throw new FieldsimError('invalid-argument', 'This file is not a fieldsim outbox export.');
  return data as OutboxExport;
}

function wrap(session: Session, mode: AppBackend['mode'], password?: string): AppBackend {
  // App downloads need the same credentials as the restore; like the session's own client,
  // they stay in this closure only (DESIGN.md 4).
  let secret = password;
  const authUser = session.info.authenticatedAs?.username ?? session.info.username;
  return {
    info: session.info,
    mode,
    rewrapped: session.unlockOutcome === 'rewrapped',
    canSend: () => session.canSend(),
    dataLocked() {
      const e = session.encryption();
      return e.encrypted && !e.unlocked;
    },
    async unlock(pw) {
      await session.unlock(pw);
      secret = pw;
    },
    serverAuth: () =>
      secret !== undefined && session.canSend() ? { username: authUser, password: secret } : null,
    saveFilledForm: (form, opts) => session.saveFilledForm(form, opts ?? {}),
    deviceData: () =>
      readDeviceData(session.db, {
        deviceId: session.info.deviceId,
        appVersion: APP_VERSION,
        username: session.info.username.split('@')[0] ?? session.info.username,
        userId: session.info.userId,
      }),
    queryCases: (q) => session.listCases(q),
    caseTypes: () => session.caseTypes(),
    async ownerNames() {
      const roots = [];
      for (const id of ['user-groups', 'locations']) {
        const f = await getFixture(session.db, id);
        if (f) roots.push(f.root);
      }
      return ownerNamesFrom(roots, { userId: session.info.userId, username: session.info.username });
    },
    getCase: (id) => session.getCase(id),
    children: (id) => session.children(id),
    saveForm: (draft) => session.saveForm(draft),
    saveDraft: (draft, instanceId) => session.saveDraft(draft, instanceId ? { instanceId } : {}),
    async getDraft(instanceId) {
      const d = await session.outbox.getDraft(instanceId);
      if (!d) return undefined;
      const { timeStart: _timeStart, ...draft } = d;
      return draft;
    },
    completeDraft: (instanceId, draft) => session.completeDraft(instanceId, draft),
    outbox: () => session.listOutbox(),
    outboxXml: (id) => session.outboxXml(id),
    retry: (id) => session.requeue(id),
    quarantine: (id) => session.quarantine(id, 'Set aside by hand in the Outbox'),
    async exportOutbox(opts) {
      const text = JSON.stringify(await session.exportOutbox(), null, 2);
      if (opts?.plain) return text;
      if (secret === undefined)
        throw new FieldsimError(
          'not-logged-in',
          'Enter the password first: the export is encrypted with it (or choose a plain export).',
        );
      return JSON.stringify(await sealExport(text, secret), null, 2);
    },
    async importOutbox(json) {
      let text = json;
      const parsed: unknown = JSON.parse(json);
      if (isEncryptedExport(parsed)) {
        if (secret === undefined)
          throw new FieldsimError('not-logged-in', 'Enter the password first: this export is encrypted.');
        text = await openExport(parsed, secret);
      }
      const r = await session.importOutbox(parseExport(text), { applyCases: true });
      return { imported: r.imported, skipped: r.skipped, failed: r.failed.length };
    },
    async exportDatabase() {
      const cases = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await session.listCases({ status: 'all', sort: 'name', offset, limit: 1000 });
        cases.push(...page.cases);
        if (page.cases.length < 1000) break;
      }
      const outbox = await Promise.all(
        (await session.listOutbox()).map(async (item) => ({
          ...item,
          xml: (await session.outboxXml(item.instanceId)) ?? null,
        })),
      );
      return JSON.stringify(
        {
          format: 'fieldsim-support-export',
          version: 1,
          exportedAt: new Date().toISOString(),
          app: APP_VERSION,
          session: session.info,
          syncToken: await session.syncToken(),
          caseStateHash: await session.caseStateHash(),
          lastSync: await session.lastSync(),
          cases,
          outbox,
        },
        null,
        2,
      );
    },
    async clearLocalData() {
      writeLastUser(null);
      stopRestoreWorkers();
      session.logout();
      // Dexie's delete closes the database first; the outbox stops with it.
      session.outbox.close();
      await session.db.delete();
    },
    trigger: (reason) => (session.canSend() ? session.outbox.trigger(reason) : Promise.resolve(null)),
    onOutboxChange: (listener) => session.outbox.onChange(listener),
    outboxStatus: () => ({ paused: session.outbox.paused, nextAttemptAt: session.outbox.nextAttemptAt }),
    async syncAndSend(onProgress, signal) {
      const report = await session.syncAndSend({ onProgress, ...(signal ? { signal } : {}) });
      return {
        send: report.send,
        restored: report.restore
          ? {
              mode: report.restore.mode,
              cases: report.restore.cases,
              purged: report.restore.purged,
              ...(report.restore.changes ? { changes: report.restore.changes } : {}),
            }
          : null,
      };
    },
    lastSync: () => session.lastSync(),
    syncToken: () => session.syncToken(),
    caseStateHash: () => session.caseStateHash(),
    async logout() {
      writeLastUser(null);
      stopRestoreWorkers();
      session.close();
    },
  };
}

export function createSessionBackendFactory(): BackendFactory {
  return {
    async login(input: LoginInput, onProgress) {
      const platform = browserSessionPlatform();
      const loginAs = input.loginAs?.trim() ? { loginAs: input.loginAs.trim() } : {};
      const offline = () =>
        openOffline({
          domain: input.domain,
          username: input.username,
          password: input.password,
          platform,
          appVersion: APP_VERSION,
          ...loginAs,
        });
      let session: Session;
      let mode: AppBackend['mode'] = 'online';
      if (!navigator.onLine || networkSimulation.value.offline) {
        session = await offline();
        mode = 'offline';
      } else {
        try {
          session = await login({
            serverUrl: input.serverUrl,
            domain: input.domain,
            username: input.username,
            password: input.password,
            ...(input.previousPassword ? { previousPassword: input.previousPassword } : {}),
            platform,
            appVersion: APP_VERSION,
            onProgress,
            ...loginAs,
          });
        } catch (e) {
          // The server is out of reach: a worker who logged in here before can still work.
          if (!isNetworkError(e)) throw e;
          try {
            session = await offline();
            mode = 'offline';
          } catch (offlineError) {
            if (offlineError instanceof FieldsimError && offlineError.code === 'not-logged-in') throw e;
            throw offlineError;
          }
        }
      }
      const acting = session.info.authenticatedAs;
      writeLastUser(
        acting
          ? { domain: session.info.domain, username: acting.username, loginAs: session.info.username }
          : { domain: session.info.domain, username: session.info.username },
      );
      return wrap(session, mode, input.password);
    },
    async resume() {
      const last = readLastUser();
      if (!last) return null;
      const session = await openOffline({
        domain: last.domain,
        username: last.username,
        platform: browserSessionPlatform(),
        appVersion: APP_VERSION,
        ...(last.loginAs ? { loginAs: last.loginAs } : {}),
      });
      return wrap(session, 'reopened');
    },
  };
}
