import { v4 as uuidv4 } from 'uuid';
import { FieldsimError } from '../errors/fieldsim-error.ts';
import type { BackoffPolicy } from '../http/backoff.ts';
import { fullUsername, shortUsername } from '../http/basic-auth.ts';
import { HqClient, type SsoUser } from '../http/hq-client.ts';
import type { ImportResult, Outbox, OutboxExport, OutboxLimits, SaveAttachment } from '../outbox/outbox.ts';
import { outboxForCaseDb } from '../outbox/outbox-for-case-db.ts';
import { installStrictOutboxDurability } from '../outbox/outbox-store.ts';
import {
  type Clock,
  createInProcessLock,
  type FetchLike,
  type IndexedDbDeps,
  type LockFn,
  systemClock,
} from '../platform.ts';
import type { CaseBlock, CaseRecord } from '../protocol/casexml/case-types.ts';
import type { RegistrationRecord } from '../protocol/restore/restore-types.ts';
import { composeForm, xsdDateTime } from '../protocol/submission/compose-form.ts';
import type { ComposedForm, FormDraft } from '../protocol/submission/form-types.ts';
import {
  type CloseCaseInput,
  closeCaseForm,
  type RegisterCaseInput,
  registerCaseForm,
  type UpdateCaseInput,
  updateCaseForm,
} from '../protocol/submission/generic-forms.ts';
import { readForm } from '../protocol/submission/read-form.ts';
import { CaseDb } from '../store/case-db.ts';
import { noteEncryption, type UnlockOutcome, unlockData } from '../store/data-encryption.ts';
import { databaseName, FieldsimDb } from '../store/fieldsim-db.ts';
import { getLastSync, getRegistration, getSyncToken } from '../store/sync-state.ts';
import { createPasswordVerifier, type PasswordVerifier, verifyPassword } from './password-verifier.ts';
import { type FullIngest, type RestoreFlowResult, runRestore } from './restore-flow.ts';
import type {
  CasePage,
  CaseQuery,
  OutboxItem,
  RestoreProgress,
  SendReport,
  SessionInfo,
} from './session-types.ts';

/**
 * One logged-in mobile worker on one device: the surface the PWA and the CLI use.
 *
 *   login()        online: SSO -> per-user database -> password verifier -> outbox start
 *                  -> full restore when the device holds nothing for this user
 *   openOffline()  no network: the same database; sending waits for `unlock(password)`
 *   sync()         incremental restore (since + state), full when there is no token
 *   syncAndSend()  the worker's button: send the outbox in order, then sync (DESIGN.md 4)
 *   saveForm()     compose + apply locally + queue, in one transaction
 *
 * Everything platform-specific (fetch, IndexedDB, locks, clock, online state, ids,
 * WebCrypto) comes in through `SessionPlatform`.
 */

export interface SessionPlatform {
  indexedDB: IndexedDbDeps;
  fetch?: FetchLike;
  /** Cross-tab lock (Web Locks in browsers); defaults to an in-process lock. */
  lock?: LockFn;
  clock?: Clock;
  /** `navigator.onLine` in browsers; defaults to always online. */
  isOnline?: () => boolean;
  /** A v4 UUID source for instanceIDs and case ids. */
  newId?: () => string;
  random?: () => number;
  crypto?: Crypto;
  /** PBKDF2 iterations for the offline verifier (default 600,000; lower only in tests/simulations). */
  pbkdf2Iterations?: number;
  /**
   * Encryption at rest (docs/core.md): the user's database is encrypted with a random data
   * key wrapped by the password; a plain database is migrated at its first unlock. A
   * database that already has a data key is always treated as encrypted, whatever this says.
   */
  encryptAtRest?: boolean;
  /** Where full restores are loaded: the PWA passes its restore Web Worker (restore-flow.ts). */
  fullIngest?: FullIngest;
}

export interface SessionOptions {
  /** `cc:appVersion` and `x-openrosa-commcare-version`. */
  appVersion?: string;
  outbox?: { autoRetry?: boolean; backoff?: BackoffPolicy; limits?: OutboxLimits; preflight?: boolean };
  /** Request timeouts (defaults: login 30 s, restore headers 120 s, submit 60 s). */
  timeouts?: { loginMs?: number; restoreMs?: number; submitMs?: number };
}

export interface LoginOptions extends SessionOptions {
  serverUrl: string;
  domain: string;
  /** Short (`worker1`) or full (`worker1@demo.commcarehq.org`). */
  username: string;
  password: string;
  /**
   * Encryption at rest: the password before it was changed on the server. Needed once,
   * when the new password (which the server accepted) does not open this device's data
   * key and no key escrow could (`password-changed`): the key is then re-wrapped for the
   * new password, and the old one opens nothing.
   */
  previousPassword?: string;
  platform: SessionPlatform;
  /**
   * "Login as": `username`/`password` are a web user's, this is the mobile worker (short or
   * full) whose data the session restores (`as=`) and whose name goes into form meta.
   */
  loginAs?: string;
  /** `auto` (default): full restore only if the device has no data for this user yet. */
  restore?: 'auto' | 'always' | 'never';
  onProgress?: (p: RestoreProgress) => void;
  signal?: AbortSignal;
}

export interface OpenOfflineOptions extends SessionOptions {
  domain: string;
  username: string;
  platform: SessionPlatform;
  /** When given, verified against the stored verifier and sending is enabled at once. */
  password?: string;
  /** Reopens a "login as" session: `username` is the web user, this the worker. */
  loginAs?: string;
}

export interface SaveFormOptions {
  attachments?: SaveAttachment[];
  /** When the form was opened (meta timeStart), epoch ms; defaults to now. */
  timeStart?: number;
  /** Reuse an instanceID (completing a draft); a fresh v4 UUID otherwise. */
  instanceId?: string;
}

export interface SyncAndSendReport {
  send: SendReport;
  /** null when the sync was skipped because forms are still waiting (see `syncAndSend`). */
  restore: RestoreFlowResult | null;
}

/** What the session keeps in the per-user database about itself. */
interface StoredSession {
  serverUrl: string;
  userId: string;
  deviceId: string;
  verifier: PasswordVerifier;
  sso?: SsoUser;
  /** "Login as" sessions: the web user; `userId` above is then the worker's. */
  authenticatedAs?: { username: string; userId: string };
}

/**
 * Who talks to the server and whose data it is. A "login as" pair gets a database of its
 * own, never the worker's own device data nor the web user's: formplayer keys its
 * sandbox the same way (`new UserDB(domain, username, asUsername)` in
 * fp:src/main/java/org/commcare/formplayer/services/RestoreFactory.java).
 */
function identity(domain: string, username: string, loginAs: string | undefined) {
  const authUser = fullUsername(username, domain);
  if (loginAs === undefined || loginAs.trim() === '')
    return { authUser, dataUser: authUser, dbKey: authUser, restoreAs: undefined };
  const dataUser = fullUsername(loginAs, domain);
  return { authUser, dataUser, dbKey: `${authUser}*as*${dataUser}`, restoreAs: dataUser };
}

/**
 * The worker's user id in a "login as" session: the SSO answer is the web user's, so it is
 * read from the restore's `<Registration>` (what CommCare's session takes as the logged-in
 * user, PROTOCOL.md 3.7), then kept for offline reopening.
 */
async function adoptRegisteredUser(db: FieldsimDb, info: SessionInfo, stored: StoredSession): Promise<void> {
  const reg = await getRegistration(db);
  if (!reg || reg.uuid === info.userId) return;
  info.userId = reg.uuid;
  await db.meta.put({ key: SESSION_KEY, value: { ...stored, userId: reg.uuid } });
}

const SESSION_KEY = 'session.local';

/**
 * Checks a password against the verifier the last online password login stored, without
 * opening a session: null when no password login ever happened in this database (an
 * API-key login). For hosts that migrate a plain database themselves (the CLI).
 */
export async function checkStoredPassword(
  db: FieldsimDb,
  password: string,
  c?: Crypto,
): Promise<boolean | null> {
  const stored = await readStored(db);
  if (!stored?.verifier) return null;
  return verifyPassword(password, stored.verifier, c);
}

/**
 * The database of `username`'s session on this device, or of its "login as" pair with
 * `loginAs`: for hosts that open a session's database themselves (the CLI's state folder).
 */
export function sessionDatabaseName(domain: string, username: string, loginAs?: string): string {
  return databaseName(domain, identity(domain, username, loginAs).dbKey);
}

/**
 * Without an injected lock, every session in this realm shares one in-process lock, so
 * two sessions of the same user (same database, same lock name) never send at once.
 */
const realmLock: LockFn = createInProcessLock();

async function openDb(domain: string, username: string, deps: IndexedDbDeps): Promise<FieldsimDb> {
  const db = new FieldsimDb(databaseName(domain, username), deps);
  installStrictOutboxDurability(db);
  await db.open();
  return db;
}

async function readStored(db: FieldsimDb): Promise<StoredSession | undefined> {
  const row = await db.meta.get(SESSION_KEY);
  return row?.value as StoredSession | undefined;
}

/** Online login (PROTOCOL.md 1): credentials checked by SSO, then the local database opened. */
export async function login(opts: LoginOptions): Promise<Session> {
  const who = identity(opts.domain, opts.username, opts.loginAs);
  const username = who.dataUser;
  // One connection for the whole login: the stored device id (sent with SSO) is read
  // from the same database the session then keeps open.
  const db = await openDb(opts.domain, who.dbKey, opts.platform.indexedDB);
  try {
    const stored0 = await readStored(db);
    const deviceId = stored0?.deviceId ?? `fieldsim-${(opts.platform.newId ?? uuidv4)()}`;
    const client = makeClient(opts, who.authUser, opts.password, deviceId, who.restoreAs);
    const user = await client.login(opts.signal);
    // The server accepted the password: open (or create, or re-wrap) the data key before
    // the new verifier replaces the old one, so a failure here changes nothing stored.
    const unlocked = await unlockData(db, opts.password, {
      encrypt: opts.platform.encryptAtRest ?? false,
      ...(opts.previousPassword === undefined ? {} : { previousPassword: opts.previousPassword }),
      // The key escrow (docs/core.md): a server without key records is no error.
      keyRecords: (lastIssued) => client.keyRecords(lastIssued, opts.signal).catch(() => null),
      ...(opts.platform.pbkdf2Iterations === undefined ? {} : { iterations: opts.platform.pbkdf2Iterations }),
      ...(opts.platform.crypto ? { crypto: opts.platform.crypto } : {}),
    });
    const verifier = await createPasswordVerifier(opts.password, {
      ...(opts.platform.pbkdf2Iterations === undefined ? {} : { iterations: opts.platform.pbkdf2Iterations }),
      ...(opts.platform.crypto ? { crypto: opts.platform.crypto } : {}),
    });
    const authenticatedAs = who.restoreAs ? { username: who.authUser, userId: user.id } : undefined;
    // Login as: the worker's id is known once a restore brought its <Registration>.
    const userId = authenticatedAs ? (stored0?.userId ?? '') : user.id;
    const stored: StoredSession = {
      serverUrl: client.serverUrl,
      userId,
      deviceId,
      verifier,
      sso: user,
      ...(authenticatedAs ? { authenticatedAs } : {}),
    };
    await db.meta.put({ key: SESSION_KEY, value: stored });
    const info: SessionInfo = {
      serverUrl: client.serverUrl,
      domain: opts.domain,
      username,
      userId,
      deviceId,
      ...(authenticatedAs ? { authenticatedAs } : {}),
    };
    const session = new Session(db, opts.platform, opts, info);
    session.unlockOutcome = unlocked;
    session.setClient(client);
    void session.outbox.start();
    const want = opts.restore ?? 'auto';
    if (want === 'always' || (want === 'auto' && (await getSyncToken(db)) === null)) {
      await session.restore({
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    if (authenticatedAs) await adoptRegisteredUser(db, info, stored);
    return session;
  } catch (e) {
    db.close();
    throw e;
  }
}

function makeClient(
  opts: SessionOptions & { serverUrl: string; domain: string; platform: SessionPlatform },
  username: string,
  password: string,
  deviceId: string,
  restoreAs?: string,
  apiKey?: string,
): HqClient {
  return new HqClient({
    serverUrl: opts.serverUrl,
    domain: opts.domain,
    username,
    password,
    deviceId,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(restoreAs === undefined ? {} : { restoreAs }),
    ...(opts.platform.fetch ? { fetch: opts.platform.fetch } : {}),
    ...(opts.platform.clock ? { clock: opts.platform.clock } : {}),
    ...(opts.appVersion === undefined ? {} : { appVersion: opts.appVersion }),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
  });
}

/**
 * Opens a user who logged in on this device before, without the network (offline start,
 * PWA reload). Throws `not-logged-in` when the device has no data for that user, and
 * `auth-invalid` for a wrong password.
 */
export async function openOffline(opts: OpenOfflineOptions): Promise<Session> {
  const who = identity(opts.domain, opts.username, opts.loginAs);
  const username = who.dataUser;
  const db = await openDb(opts.domain, who.dbKey, opts.platform.indexedDB);
  try {
    // An encrypted database stays locked (every read fails with `data-locked`) until unlock.
    await noteEncryption(db);
    const stored = await readStored(db);
    if (!stored)
      throw new FieldsimError(
        'not-logged-in',
        `This device has no data for ${username}; log in online first`,
      );
    const session = new Session(db, opts.platform, opts, {
      serverUrl: stored.serverUrl,
      domain: opts.domain,
      username,
      userId: stored.userId,
      deviceId: stored.deviceId,
      ...(stored.authenticatedAs ? { authenticatedAs: stored.authenticatedAs } : {}),
    });
    if (opts.password !== undefined) await session.unlock(opts.password);
    else await session.outbox.start();
    return session;
  } catch (e) {
    db.close();
    throw e;
  }
}

export class Session {
  readonly info: SessionInfo;
  readonly db: FieldsimDb;
  readonly caseDb: CaseDb;
  readonly outbox: Outbox;
  readonly #platform: SessionPlatform;
  readonly #opts: SessionOptions;
  readonly #clock: Clock;
  readonly #newId: () => string;
  /**
   * How the online login opened the data: `rewrapped` when the password had changed on the
   * server and the key was re-wrapped for the new one (escrow or `previousPassword`);
   * null for an offline start.
   */
  unlockOutcome: UnlockOutcome | null = null;
  #client: HqClient | null = null;
  #closed = false;
  readonly #lock: LockFn;

  /**
   * Held by restores and by form saves: a full restore stages the fresh payload, then
   * switches and carries the unsent forms' case blocks over; a save landing in between
   * would have its local case changes dropped by the switch.
   */
  #withData<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock(`fieldsim-data:${this.db.name}`, fn);
  }

  constructor(db: FieldsimDb, platform: SessionPlatform, opts: SessionOptions, info: SessionInfo) {
    this.db = db;
    this.info = info;
    this.#platform = platform;
    this.#opts = opts;
    this.#clock = platform.clock ?? systemClock;
    this.#newId = platform.newId ?? uuidv4;
    this.caseDb = new CaseDb(db);
    this.#lock = platform.lock ?? realmLock;
    this.outbox = outboxForCaseDb(db, {
      caseDb: this.caseDb,
      lock: platform.lock ?? realmLock,
      clock: this.#clock,
      ...(platform.random ? { random: platform.random } : {}),
      getSyncToken: () => getSyncToken(db),
      ...(opts.outbox?.limits ? { limits: opts.outbox.limits } : {}),
      ...(opts.outbox?.backoff ? { backoff: opts.outbox.backoff } : {}),
      ...(opts.outbox?.autoRetry === undefined ? {} : { autoRetry: opts.outbox.autoRetry }),
      ...(opts.outbox?.preflight === undefined ? {} : { preflight: opts.outbox.preflight }),
      ...(platform.isOnline ? { isOnline: platform.isOnline } : {}),
    });
  }

  /** @internal Used by `login`; the outbox sends with these credentials. */
  setClient(client: HqClient): void {
    this.#client = client;
    this.outbox.setSender(client);
    this.outbox.resume();
  }

  /** False after an offline start until `unlock`, or after `logout`. */
  canSend(): boolean {
    return this.#client !== null;
  }

  #requireClient(): HqClient {
    if (this.#closed) throw new FieldsimError('not-logged-in', 'The session is closed');
    if (!this.#client) throw new FieldsimError('not-logged-in', 'Enter the password to talk to the server');
    return this.#client;
  }

  /** Supplies the password after an offline start: checked against the local verifier. */
  async unlock(password: string): Promise<void> {
    const stored = await readStored(this.db);
    if (!stored) throw new FieldsimError('not-logged-in', 'No local login for this user');
    if (!(await verifyPassword(password, stored.verifier, this.#platform.crypto)))
      throw new FieldsimError('auth-invalid', 'Wrong password for this user on this device');
    await unlockData(this.db, password, {
      encrypt: this.#platform.encryptAtRest ?? false,
      ...(this.#platform.pbkdf2Iterations === undefined
        ? {}
        : { iterations: this.#platform.pbkdf2Iterations }),
      ...(this.#platform.crypto ? { crypto: this.#platform.crypto } : {}),
    });
    this.setClient(this.#clientWith(stored.serverUrl, password));
    await this.outbox.start();
  }

  /**
   * Gives the session credentials without a local check and without sending anything: for
   * hosts that decide when to send and let the server judge the secret at the next request
   * (the CLI), and for API keys (`Authorization: ApiKey`), which have no local verifier.
   * Sending starts at the host's `sendOutbox`/`syncAndSend`, or the outbox's next trigger.
   * In a "login as" session the secret is the web user's (`authenticatedAs`).
   */
  connect(auth: { password: string } | { apiKey: string }): void {
    if (this.#closed) throw new FieldsimError('not-logged-in', 'The session is closed');
    this.setClient(
      'apiKey' in auth
        ? this.#clientWith(this.info.serverUrl, '', auth.apiKey)
        : this.#clientWith(this.info.serverUrl, auth.password),
    );
  }

  #clientWith(serverUrl: string, password: string, apiKey?: string): HqClient {
    return makeClient(
      { ...this.#opts, serverUrl, domain: this.info.domain, platform: this.#platform },
      // Login as: the web user's credentials, the worker's data (`as=`).
      this.info.authenticatedAs?.username ?? this.info.username,
      password,
      this.info.deviceId,
      this.info.authenticatedAs ? this.info.username : undefined,
      apiKey,
    );
  }

  #restoreDeps() {
    return {
      db: this.db,
      caseDb: this.caseDb,
      client: this.#requireClient(),
      clock: this.#clock,
      random: this.#platform.random ?? Math.random,
      // `user_id=` is for a worker's own device (deleted and recreated user). Web Apps'
      // login as sends none (formplayer `RestoreFactory.getUserRestoreUrl`), so neither
      // does a login-as session: HQ's check is not documented for `as=` restores.
      userId: this.info.authenticatedAs ? '' : this.info.userId,
      pendingBlocks: async (): Promise<CaseBlock[]> => {
        const blocks: CaseBlock[] = [];
        for (const item of await this.outbox.list(['queued', 'sending'])) {
          const xml = await this.outbox.getXml(item.instanceId);
          if (xml) blocks.push(...readForm(xml).caseBlocks);
        }
        return blocks;
      },
      reapplyEach: () => this.outbox.reapplyPending(),
      ...(this.#platform.fullIngest ? { fullIngest: this.#platform.fullIngest } : {}),
    };
  }

  /**
   * Full restore: replaces the local cases atomically (the old data stays until the switch).
   * `purge: false` skips the phone purge (every case of the payload is kept).
   */
  async restore(
    opts: { onProgress?: (p: RestoreProgress) => void; signal?: AbortSignal; purge?: boolean } = {},
  ): Promise<RestoreFlowResult> {
    return this.#withData(() => runRestore(this.#restoreDeps(), { mode: 'full', ...opts }));
  }

  /** Incremental sync with `since` and `state=ccsh:`; full when there is no token yet. */
  async sync(
    opts: { onProgress?: (p: RestoreProgress) => void; signal?: AbortSignal } = {},
  ): Promise<RestoreFlowResult> {
    return this.#withData(() => runRestore(this.#restoreDeps(), { mode: 'incremental', ...opts }));
  }

  /**
   * "Sync and send": the outbox first, in order, then the incremental sync. When forms are
   * still waiting after the send (server down, rate limited), the sync is skipped: merging
   * the server's older state of a case over a local change not yet delivered would show
   * the worker stale data, and Android also syncs only after its forms went out. 401/406
   * during the send stop with the typed error.
   */
  async syncAndSend(
    opts: { onProgress?: (p: RestoreProgress) => void; signal?: AbortSignal } = {},
  ): Promise<SyncAndSendReport> {
    this.#requireClient();
    const send = await this.outbox.send();
    const stop = send.stoppedBy?.code;
    if (stop === 'auth-invalid' || stop === 'user-deactivated')
      throw new FieldsimError(stop, send.stoppedBy?.message ?? stop);
    if (send.remaining > 0) return { send, restore: null };
    return { send, restore: await this.sync(opts) };
  }

  /** Sends the outbox now (ignores the backoff window). */
  sendOutbox(): Promise<SendReport> {
    this.#requireClient();
    return this.outbox.send();
  }

  /**
   * Saves a completed form: meta filled from this session (deviceID, timeStart, timeEnd,
   * short username, userID, a fresh instanceID), case blocks applied locally and the form
   * queued, in one transaction; then a send is attempted (trigger `save`).
   */
  async saveForm(draft: FormDraft, opts: SaveFormOptions = {}): Promise<OutboxItem> {
    if (this.#closed) throw new FieldsimError('not-logged-in', 'The session is closed');
    const now = this.#clock.now();
    const composed = composeForm({
      ...draft,
      meta: {
        deviceId: this.info.deviceId,
        timeStart: xsdDateTime(opts.timeStart ?? now),
        timeEnd: xsdDateTime(now),
        // HQ-built forms carry the short name (PROTOCOL.md 2.1; HQ's own samples).
        username: shortUsername(this.info.username),
        userId: this.info.userId,
        instanceId: opts.instanceId ?? this.#newId(),
        appVersion: this.#opts.appVersion ?? 'fieldsim',
      },
    });
    return this.#withData(() =>
      this.outbox.enqueue(composed, opts.attachments ?? [], {
        replacesDraft: opts.instanceId !== undefined,
      }),
    );
  }

  /**
   * Saves a form the XForm engine filled (`FormSession.finish()` or `fillAppForm`): its XML
   * is sent as it is, with the case blocks read back from it applied locally in the same
   * transaction as the enqueue, exactly as for composed forms (DESIGN.md 4, form save).
   */
  async saveFilledForm(
    form: { xml: string; instanceId: string; xmlns: string; name: string },
    opts: { attachments?: SaveAttachment[]; replacesDraft?: boolean } = {},
  ): Promise<OutboxItem> {
    if (this.#closed) throw new FieldsimError('not-logged-in', 'The session is closed');
    const read = readForm(form.xml);
    const composed: ComposedForm = {
      xml: form.xml,
      instanceId: form.instanceId,
      xmlns: form.xmlns,
      formName: form.name,
      caseBlocks: read.caseBlocks.map(({ version: _v, path: _p, ...block }) => block),
      size: new TextEncoder().encode(form.xml).length,
    };
    return this.#withData(() =>
      this.outbox.enqueue(composed, opts.attachments ?? [], { replacesDraft: opts.replacesDraft ?? false }),
    );
  }

  /** Keeps an unfinished form as `incomplete`. */
  async saveDraft(
    draft: FormDraft,
    opts: { instanceId?: string; timeStart?: number; attachments?: SaveAttachment[] } = {},
  ): Promise<OutboxItem> {
    const id = opts.instanceId ?? this.#newId();
    return this.outbox.saveDraft(
      id,
      { ...draft, timeStart: xsdDateTime(opts.timeStart ?? this.#clock.now()) },
      opts.attachments ?? [],
    );
  }

  /** Completes a draft: composed with its original timeStart and instanceID, then saved. */
  async completeDraft(instanceId: string, changes?: Partial<FormDraft>): Promise<OutboxItem> {
    const d = await this.outbox.getDraft(instanceId);
    if (!d) throw new FieldsimError('invalid-argument', `No draft ${instanceId}`);
    const { timeStart, ...draft } = d;
    return this.saveForm({ ...draft, ...changes }, { instanceId, timeStart: Date.parse(timeStart) });
  }

  /** Registers a case (create + update, optional parent index); returns the form and the new case id. */
  async registerCase(
    input: Omit<RegisterCaseInput, 'caseId'> & { caseId?: string },
  ): Promise<{ item: OutboxItem; caseId: string }> {
    const caseId = input.caseId ?? this.#newId();
    return { item: await this.saveForm(registerCaseForm({ ...input, caseId })), caseId };
  }

  updateCase(input: UpdateCaseInput): Promise<OutboxItem> {
    return this.saveForm(updateCaseForm(input));
  }

  closeCase(input: CloseCaseInput): Promise<OutboxItem> {
    return this.saveForm(closeCaseForm(input));
  }

  /** `offsetFrom`: see CaseDb.query (the QA runner's random pick from a case list). */
  listCases(q: CaseQuery = {}, opts: { offsetFrom?: (total: number) => number } = {}): Promise<CasePage> {
    return this.caseDb.query(q, opts);
  }

  getCase(caseId: string): Promise<CaseRecord | undefined> {
    return this.caseDb.get(caseId);
  }

  children(caseId: string): Promise<CaseRecord[]> {
    return this.caseDb.children(caseId);
  }

  async caseTypes(): Promise<string[]> {
    return Object.keys((await this.caseDb.stats()).byType).sort();
  }

  caseStateHash(): Promise<string> {
    return this.caseDb.caseStateHash();
  }

  listOutbox(states?: OutboxItem['state'][]): Promise<OutboxItem[]> {
    return this.outbox.list(states);
  }

  outboxXml(instanceId: string): Promise<string | undefined> {
    return this.outbox.getXml(instanceId);
  }

  requeue(instanceId: string): Promise<void> {
    return this.outbox.requeue(instanceId);
  }

  quarantine(instanceId: string, message?: string): Promise<void> {
    return this.outbox.quarantine(instanceId, message);
  }

  outboxCounts(): Promise<Record<OutboxItem['state'], number>> {
    return this.outbox.counts();
  }

  /**
   * Drops the payloads of forms sent more than `maxAgeMs` ago; their records stay. Nothing
   * expires unless the host calls this (no silent expiry, issue 4).
   */
  pruneSent(maxAgeMs: number): Promise<number> {
    return this.outbox.prune(this.#clock.now() - maxAgeMs);
  }

  exportOutbox(): Promise<OutboxExport> {
    return this.outbox.exportPending();
  }

  importOutbox(data: OutboxExport, opts?: { applyCases?: boolean }): Promise<ImportResult> {
    return this.#withData(() => this.outbox.importForms(data, opts));
  }

  syncToken(): Promise<string | null> {
    return getSyncToken(this.db);
  }

  lastSync(): Promise<number | null> {
    return getLastSync(this.db);
  }

  registration(): Promise<RegistrationRecord | null> {
    return getRegistration(this.db);
  }

  /** Forgets the credentials and the data key (the local data and the outbox stay for the next login). */
  logout(): void {
    this.#client = null;
    this.outbox.setSender(null);
    this.db.vault.lock();
  }

  /**
   * Lock screen: drops the data key and the credentials; an encrypted database answers
   * `data-locked` until `unlock(password)`. A plain database keeps reading (nothing to lock).
   */
  lock(): void {
    this.logout();
  }

  /** Whether the data is encrypted at rest, and whether its key is in memory. */
  encryption(): { encrypted: boolean; unlocked: boolean } {
    return { encrypted: this.db.vault.encrypted, unlocked: this.db.vault.unlocked };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.logout();
    this.outbox.close();
    this.db.close();
  }
}
