import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SqliteStore } from '../../node-store/sqlite-store.ts';
import { isTempFile, writeFileAtomic } from './atomic-file.ts';
import { migrateSnapshot } from './migrate-snapshot.ts';
import { decodeSnapshot, encodeSnapshot, exportDatabases, importDatabases } from './snapshot.ts';
import { StateError } from './state-error.ts';
import { acquireLock, type HeldLock } from './state-lock.ts';

/**
 * The CLI's state folder, kept between commands (issue 7: "keeping state in a local folder
 * between commands"):
 *
 *   <state>/                      mode 0700
 *     current.json                the last login: server, domain, username (no secret)
 *     users/<host>-<domain>-<user>[-as-<worker>]-<hash>/
 *       lock                      held while a command runs (state-lock.ts)
 *       session.json              server, domain, username, as, userId, deviceId, auth
 *       db.sqlite (-wal, -shm)    the worker's database (cases, sync token, outbox, the
 *                                 PBKDF2 password verifier the core keeps): SQLite, written
 *                                 in place, one transaction per core transaction
 *                                 (src/node-store); encrypted at rest after a password
 *                                 login (state-encryption.ts)
 *       db.snapshot.migrated      the whole-database snapshot of fieldsim before SQLite,
 *                                 kept after its migration (migrate-snapshot.ts)
 *       apps.json                 cached Application Structure (for `submit --form`)
 *
 * Never a password or an API key: those come from flags or the environment each time the
 * network is used. Every file is written atomically (atomic-file.ts) with mode 0600.
 */

export const DEFAULT_STATE_DIR = '.fieldsim-cli';

export interface WorkerIdentity {
  /** Normalised base URL (origin plus path, no trailing slash). */
  server: string;
  domain: string;
  /** Full username (`worker1@demo.commcarehq.org`): who logs in (a web user with `as`). */
  username: string;
  /**
   * "Login as" (`--as`): the mobile worker (full username) whose data the web user above
   * restores and in whose name forms are saved. The pair has a state of its own.
   */
  as?: string;
}

export interface SessionRecord extends WorkerIdentity {
  format: 'fieldsim-cli-session';
  version: 1;
  /** The data owner's id: the worker's (`as`, learnt from the restore's `<Registration>`). */
  userId: string;
  /** Login as, password logins: the SSO id of `username` (the web user). */
  authUserId?: string;
  deviceId: string;
  /** How the last login authenticated (the secret itself is never kept). */
  auth: 'password' | 'api-key';
  /**
   * `login --plain-state`: the database stays unencrypted, and a later password does not
   * migrate it (docs/cli.md, "Encryption at rest"). Absent otherwise.
   */
  plainState?: true;
  loggedInAt: string;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new StateError(
      'state-corrupt',
      `${path} is not valid JSON; move it aside and log in again`,
      path,
      e,
    );
  }
}

function isIdentity(v: unknown): v is WorkerIdentity {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.server === 'string' &&
    typeof o.domain === 'string' &&
    typeof o.username === 'string' &&
    (o.as === undefined || typeof o.as === 'string')
  );
}

/** server, domain, username and (login as) the worker, without other keys. */
function identityOf(v: WorkerIdentity): WorkerIdentity {
  return {
    server: v.server,
    domain: v.domain,
    username: v.username,
    ...(v.as === undefined ? {} : { as: v.as }),
  };
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9.@_-]+/g, '_').slice(0, 60);
}

export class StateStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  #ensure(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The last login, or null when there was none in this folder. */
  readCurrent(): WorkerIdentity | null {
    const path = join(this.root, 'current.json');
    const v = readJson(path);
    if (v === undefined) return null;
    if (!isIdentity(v)) throw new StateError('state-corrupt', `${path} has unexpected content`, path);
    return identityOf(v);
  }

  writeCurrent(id: WorkerIdentity): void {
    this.#ensure(this.root);
    const body = identityOf(id);
    writeFileAtomic(join(this.root, 'current.json'), `${JSON.stringify(body, null, 2)}\n`);
  }

  /**
   * A readable and collision-free folder name per server + domain + user (+ the worker a
   * "login as" acts for: the pair never shares the worker's own state, as formplayer keys
   * its sandbox by user and as-user).
   */
  userDir(id: WorkerIdentity): string {
    const url = new URL(id.server);
    const as = id.as === undefined ? '' : `\n${id.as.toLowerCase()}`;
    const key = `${id.server}\n${id.domain.toLowerCase()}\n${id.username.toLowerCase()}${as}`;
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
    const who =
      slug(id.username.toLowerCase()) + (id.as === undefined ? '' : `-as-${slug(id.as.toLowerCase())}`);
    const name = `${slug(url.host)}-${slug(id.domain.toLowerCase())}-${who}-${hash}`;
    return join(this.root, 'users', name);
  }

  /** Takes the user's lock (throws `state-in-use`); release it with `UserState.release()`. */
  open(id: WorkerIdentity, command: string): UserState {
    const dir = this.userDir(id);
    this.#ensure(this.root);
    // An existing root keeps the mode it was made with; tighten it (it holds case data).
    chmodSync(this.root, 0o700);
    this.#ensure(dir);
    return new UserState(dir, id, acquireLock(join(dir, 'lock'), command));
  }
}

export class UserState {
  readonly dir: string;
  readonly identity: WorkerIdentity;
  readonly #lock: HeldLock;

  constructor(dir: string, identity: WorkerIdentity, lock: HeldLock) {
    this.dir = dir;
    this.identity = identity;
    this.#lock = lock;
    // Holding the lock, any temp file here belongs to a write that was killed.
    for (const f of readdirSync(dir)) if (isTempFile(f)) rmSync(join(dir, f), { force: true });
  }

  get snapshotPath(): string {
    return join(this.dir, 'db.snapshot');
  }

  get sessionPath(): string {
    return join(this.dir, 'session.json');
  }

  readSession(): SessionRecord | null {
    const v = readJson(this.sessionPath);
    if (v === undefined) return null;
    const o = v as Partial<SessionRecord>;
    if (
      !isIdentity(v) ||
      o.format !== 'fieldsim-cli-session' ||
      typeof o.userId !== 'string' ||
      typeof o.deviceId !== 'string' ||
      (o.authUserId !== undefined && typeof o.authUserId !== 'string') ||
      (o.auth !== 'password' && o.auth !== 'api-key') ||
      (o.plainState !== undefined && o.plainState !== true)
    )
      throw new StateError('state-corrupt', `${this.sessionPath} has unexpected content`, this.sessionPath);
    return v as SessionRecord;
  }

  writeSession(rec: SessionRecord): void {
    writeFileAtomic(this.sessionPath, `${JSON.stringify(rec, null, 2)}\n`);
  }

  get appsPath(): string {
    return join(this.dir, 'apps.json');
  }

  /** The cached Application Structure answer (HQ's wire shape), or null. */
  readApps(): { fetchedAt: string; apps: unknown[] } | null {
    const v = readJson(this.appsPath);
    if (v === undefined) return null;
    const o = v as { fetchedAt?: unknown; apps?: unknown };
    if (typeof o.fetchedAt !== 'string' || !Array.isArray(o.apps))
      throw new StateError('state-corrupt', `${this.appsPath} has unexpected content`, this.appsPath);
    return { fetchedAt: o.fetchedAt, apps: o.apps };
  }

  writeApps(apps: unknown[]): void {
    writeFileAtomic(this.appsPath, `${JSON.stringify({ fetchedAt: new Date().toISOString(), apps })}\n`);
  }

  get dbPath(): string {
    return join(this.dir, 'db.sqlite');
  }

  /**
   * Opens the worker's database (creating it, or migrating an old `db.snapshot` first).
   * A file there that is not fieldsim's SQLite database is refused with a
   * `SqliteStoreError` (code `state-corrupt`) naming it, and left untouched.
   */
  async openStore(): Promise<SqliteStore> {
    await migrateSnapshot(this.dir);
    const store = SqliteStore.open(this.dbPath);
    // It holds case data: owner only, as every file here.
    chmodSync(this.dbPath, 0o600);
    return store;
  }

  /** Loads a snapshot's databases into `factory` (an empty one); false when there is none. */
  async loadInto(factory: IDBFactory): Promise<boolean> {
    if (!existsSync(this.snapshotPath)) return false;
    const snap = decodeSnapshot(readFileSync(this.snapshotPath), this.snapshotPath);
    await importDatabases(factory, snap.databases);
    return true;
  }

  /**
   * Writes every database of `factory` to a snapshot, atomically; returns its size in
   * bytes. The CLI no longer keeps its state this way (see `openStore`); kept for tests
   * and tools that build an old-style state folder.
   */
  async saveFrom(factory: IDBFactory): Promise<number> {
    const bytes = await encodeSnapshot({
      savedAt: new Date().toISOString(),
      databases: await exportDatabases(factory),
    });
    writeFileAtomic(this.snapshotPath, bytes);
    return statSync(this.snapshotPath).size;
  }

  release(): void {
    this.#lock.release();
  }
}
