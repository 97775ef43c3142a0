import { existsSync } from 'node:fs';
import { FieldsimError } from '../core/errors/fieldsim-error.ts';
import { installStrictOutboxDurability } from '../core/outbox/outbox-store.ts';
import type { IndexedDbDeps } from '../core/platform.ts';
import { FieldsimDb } from '../core/store/fieldsim-db.ts';
import {
  Session,
  type SessionOptions,
  type SessionPlatform,
  sessionDatabaseName,
} from '../core/sync/session.ts';
import type { SessionInfo } from '../core/sync/session-types.ts';
import { cliFetch } from './cli-fetch.ts';
import { openStateData, scrubAfterMigration } from './state/state-encryption.ts';
import { type SessionRecord, StateStore, type UserState, type WorkerIdentity } from './state/state-store.ts';
import {
  type CommandOutput,
  type Credentials,
  describeIdentity,
  note,
  requireCredentials,
  resolveCredentials,
  resolveIdentity,
  stateDir,
  type WorkerFlags,
} from './worker-options.ts';

/**
 * One command's run of one worker: take the user's state lock, open the user's SQLite
 * database (`db.sqlite`, src/node-store), open the core `Session` on it, run the command,
 * close it and release the lock. Every core transaction is an SQLite transaction on the
 * file: nothing is loaded before or written back after, and a kill at any point leaves
 * the last committed state.
 *
 * The session starts without credentials, so nothing reaches the network until the command
 * calls `connect()`: `submit` saves the form (committed to the file) before any send is
 * tried (a killed or crashed send can then only resend the same form, which HQ answers as
 * a duplicate; PROTOCOL.md 7.5).
 */

export const SESSION_OPTIONS: SessionOptions = {
  // The CLI sends when a command says so and exits; no timers left behind.
  outbox: { autoRetry: false },
};

export interface Worker {
  readonly identity: WorkerIdentity;
  readonly record: SessionRecord;
  readonly session: Session;
  readonly state: UserState;
  /** Credentials given to this command, if any (only needed for the network). */
  readonly credentials: Credentials | null;
  /** Lets the session talk to the server; throws a usage error when no credentials were given. */
  connect(): void;
  /**
   * Makes sure what was saved is on disk (e.g. before a send). Each transaction is
   * committed to the SQLite file as it completes, so there is nothing left to write.
   */
  persist(): Promise<void>;
}

/** `encrypt`: a password login creates (or migrates to) an encrypted database. */
export function platformFor(deps: IndexedDbDeps, opts: { encrypt?: boolean } = {}): SessionPlatform {
  return { indexedDB: deps, fetch: cliFetch(), ...(opts.encrypt ? { encryptAtRest: true } : {}) };
}

/**
 * Credentials for the session (never stored): without the core's local password check
 * (the server checks the secret anyway; an API key has no local verifier) and without
 * sending: the command decides when to send.
 */
export function connectSession(session: Session, creds: Credentials): void {
  session.connect(creds.kind === 'password' ? { password: creds.secret } : { apiKey: creds.secret });
}

/**
 * What the core knows of the session from the CLI's record. Login as: the worker's name
 * and id are the session's (restores with `as=`, form meta), the web user is
 * `authenticatedAs` (its credentials talk to the server).
 */
function sessionInfo(record: SessionRecord): SessionInfo {
  const info: SessionInfo = {
    serverUrl: record.server,
    domain: record.domain,
    username: record.as ?? record.username,
    userId: record.userId,
    deviceId: record.deviceId,
  };
  if (record.as !== undefined)
    info.authenticatedAs = { username: record.username, userId: record.authUserId ?? '' };
  return info;
}

/**
 * Opens the saved worker without the network, as the core's offline start does, but from
 * the CLI's own session record, so API-key logins (which have no SSO answer) open too.
 * The database is the one the core's `login` uses for the same user (or login-as pair).
 * Forms left `sending` by a killed command go back to `queued` (same bytes, same id).
 * `password` opens an encrypted state (required for one) and migrates an old plain one.
 */
export async function openSession(
  deps: IndexedDbDeps,
  record: SessionRecord,
  password?: string,
  migrated?: () => void,
): Promise<Session> {
  const platform = platformFor(deps);
  const db = new FieldsimDb(
    sessionDatabaseName(record.domain, record.username, record.as),
    platform.indexedDB,
  );
  installStrictOutboxDurability(db);
  await db.open();
  try {
    // Encrypted state: the password opens it (or the command stops with `data-locked`);
    // an old plain state of a password login is migrated here (state-encryption.ts).
    if ((await openStateData(db, record, password, describeIdentity(record))) === 'migrated') migrated?.();
    const session = new Session(db, platform, SESSION_OPTIONS, sessionInfo(record));
    await session.outbox.start();
    return session;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens the state folder named by the flags (or FIELDSIM_STATE, or the default). */
export function storeFor(flags: WorkerFlags): StateStore {
  return new StateStore(stateDir(flags));
}

/**
 * Runs `fn` on the logged-in worker named by the flags (or the last login). `network:
 * 'required'` checks for credentials before anything is touched. `readOnly` is kept for
 * the callers' intent (listing, showing, exporting change nothing); with the SQLite
 * store no command writes the database back as a whole.
 */
export async function withWorker<T extends CommandOutput>(
  command: string,
  flags: WorkerFlags,
  network: 'required' | 'optional' | 'none',
  fn: (w: Worker) => Promise<T>,
  _opts: { readOnly?: boolean } = {},
): Promise<T> {
  const store = storeFor(flags);
  const identity = resolveIdentity(flags, store);
  const credentials = network === 'required' ? requireCredentials(flags, command) : resolveCredentials(flags);
  const notLoggedIn = () =>
    new FieldsimError(
      'not-logged-in',
      `No login for ${describeIdentity(identity)} on ${identity.server} in ${store.root}; run \`fieldsim login\` first`,
    );
  // Only `login` creates folders: a typo in --user must not leave one behind.
  if (!existsSync(store.userDir(identity))) throw notLoggedIn();
  const state = store.open(identity, command);
  try {
    const record = state.readSession();
    if (record === null) throw notLoggedIn();
    const db = await state.openStore();
    let wasMigrated = false;
    try {
      const session = await openSession(
        db.deps(),
        record,
        credentials?.kind === 'password' ? credentials.secret : undefined,
        () => {
          wasMigrated = true;
        },
      );
      const worker: Worker = {
        identity,
        record,
        session,
        state,
        credentials,
        connect() {
          connectSession(session, requireCredentials(flags, command));
        },
        async persist() {
          // Committed transactions are in the file already (WAL, fsynced at commit).
        },
      };
      // Who acts for whom, on every command of a login-as state (stdout keeps the answer).
      if (record.as !== undefined) note(flags, `${record.username} acting as ${record.as}`);
      try {
        return withLoginAs(await fn(worker), record);
      } finally {
        session.close();
      }
    } finally {
      db.close();
      if (wasMigrated) scrubAfterMigration(state.dbPath);
    }
  } finally {
    state.release();
  }
}

/** The JSON of a login-as state's commands says who acted for whom: `"loginAs": {"user", "as"}`. */
export function withLoginAs<T extends CommandOutput>(out: T, id: WorkerIdentity): T {
  if (id.as === undefined || out.json === null || typeof out.json !== 'object' || Array.isArray(out.json))
    return out;
  return { ...out, json: { ...out.json, loginAs: { user: id.username, as: id.as } } };
}
