import { existsSync } from 'node:fs';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { FieldsimError } from '../core/errors/fieldsim-error.ts';
import { HqClient } from '../core/http/hq-client.ts';
import { installStrictOutboxDurability } from '../core/outbox/outbox-store.ts';
import { databaseName, FieldsimDb } from '../core/store/fieldsim-db.ts';
import { Session, type SessionOptions, type SessionPlatform } from '../core/sync/session.ts';
import { type SessionRecord, StateStore, type UserState, type WorkerIdentity } from './state/state-store.ts';
import {
  type Credentials,
  note,
  requireCredentials,
  resolveCredentials,
  resolveIdentity,
  stateDir,
  type WorkerFlags,
} from './worker-options.ts';

/**
 * One command's run of one worker: take the user's state lock, load the saved database into
 * a fresh in-memory IndexedDB (fake-indexeddb), open the core `Session` on it, run the
 * command, write the database back (atomically) and release the lock.
 *
 * The session starts without credentials, so nothing reaches the network until the command
 * calls `connect()`: `submit` saves the form and writes the snapshot holding it before any
 * send is tried (a killed or crashed send can then only resend the same form, which HQ
 * answers as a duplicate; PROTOCOL.md 7.5).
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
  /** Writes the database now (e.g. before a send), atomically. */
  persist(): Promise<void>;
}

export function platformFor(factory: IDBFactory): SessionPlatform {
  return { indexedDB: { indexedDB: factory, IDBKeyRange } };
}

/** An HqClient for this device with a password or an API key (never stored). */
export function clientFor(record: SessionRecord, creds: Credentials): HqClient {
  return new HqClient({
    serverUrl: record.server,
    domain: record.domain,
    username: record.username,
    password: creds.kind === 'password' ? creds.secret : '',
    ...(creds.kind === 'api-key' ? { apiKey: creds.secret } : {}),
    deviceId: record.deviceId,
  });
}

/**
 * Opens the saved worker without the network, as the core's offline start does, but from
 * the CLI's own session record, so API-key logins (which have no SSO answer) open too.
 * Forms left `sending` by a killed command go back to `queued` (same bytes, same id).
 */
export async function openSession(factory: IDBFactory, record: SessionRecord): Promise<Session> {
  const platform = platformFor(factory);
  const db = new FieldsimDb(databaseName(record.domain, record.username), platform.indexedDB);
  installStrictOutboxDurability(db);
  await db.open();
  try {
    const session = new Session(db, platform, SESSION_OPTIONS, {
      serverUrl: record.server,
      domain: record.domain,
      username: record.username,
      userId: record.userId,
      deviceId: record.deviceId,
    });
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
 * 'required'` checks for credentials before anything is touched. `readOnly` commands
 * (listing, showing, exporting) skip writing the database back: with 100k cases that
 * write is most of their run time, and they change nothing.
 */
export async function withWorker<T>(
  command: string,
  flags: WorkerFlags,
  network: 'required' | 'optional' | 'none',
  fn: (w: Worker) => Promise<T>,
  opts: { readOnly?: boolean } = {},
): Promise<T> {
  const store = storeFor(flags);
  const identity = resolveIdentity(flags, store);
  const credentials = network === 'required' ? requireCredentials(flags, command) : resolveCredentials(flags);
  const notLoggedIn = () =>
    new FieldsimError(
      'not-logged-in',
      `No login for ${identity.username} on ${identity.server} in ${store.root}; run \`fieldsim login\` first`,
    );
  // Only `login` creates folders: a typo in --user must not leave one behind.
  if (!existsSync(store.userDir(identity))) throw notLoggedIn();
  const state = store.open(identity, command);
  try {
    const record = state.readSession();
    if (record === null) throw notLoggedIn();
    const factory = new IDBFactory();
    await state.loadInto(factory);
    const session = await openSession(factory, record);
    const worker: Worker = {
      identity,
      record,
      session,
      state,
      credentials,
      connect() {
        // What `Session.unlock` does, minus its local PBKDF2 check (the server checks the
        // secret anyway) and its immediate send: the command decides when to send. Also
        // the only way in for an API key, which the core's unlock does not take.
        session.setClient(clientFor(record, requireCredentials(flags, command)));
      },
      async persist() {
        await state.saveFrom(factory);
      },
    };
    let result: T;
    try {
      result = await fn(worker);
    } catch (e) {
      // Whatever happened, keep what the command changed (forms sent, states): a failed
      // save is reported on top of the command's own error.
      if (!opts.readOnly)
        await state.saveFrom(factory).catch((se: unknown) => {
          note(
            {},
            `fieldsim ${command}: could not save the state: ${se instanceof Error ? se.message : String(se)}`,
          );
        });
      session.close();
      throw e;
    }
    try {
      if (!opts.readOnly) await state.saveFrom(factory);
    } finally {
      session.close();
    }
    return result;
  } finally {
    state.release();
  }
}
