import { CryptoError } from '../../core/crypto/crypto-error.ts';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { IndexedDbDeps } from '../../core/platform.ts';
import { noteEncryption, readWrappedKey, unlockData } from '../../core/store/data-encryption.ts';
import { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import { checkStoredPassword, sessionDatabaseName } from '../../core/sync/session.ts';
import { SqliteStore } from '../../node-store/sqlite-store.ts';
import type { SessionRecord, WorkerIdentity } from './state-store.ts';

/**
 * Encryption at rest for the CLI's state folder (docs/cli.md, "Encryption at rest"): the
 * worker's `db.sqlite` is the core's encrypted database (docs/core.md), its data key
 * wrapped by the password. A password login creates it; every later command must be given
 * the password (FIELDSIM_PASSWORD or --password) to read or write anything, checked here
 * on the device (the key unwrap), with no network.
 *
 * A state written before encryption (a password login, not `--plain-state`) is migrated
 * at the first command that has the password, once the password matched the verifier the
 * login stored: a mistyped password must not become the key. API-key logins have no
 * password to wrap with: they keep a plain state only when asked (`--plain-state`).
 */

/** What unlocks (or not) the worker's data for one command. */
export async function openStateData(
  db: FieldsimDb,
  record: SessionRecord,
  password: string | undefined,
  who: string,
): Promise<'plain' | 'opened' | 'migrated'> {
  const encrypted = await noteEncryption(db);
  if (encrypted) {
    if (password === undefined)
      throw new CryptoError(
        'data-locked',
        `The state of ${who} is encrypted: give its password with FIELDSIM_PASSWORD or --password ` +
          '(an API key cannot open it)',
      );
    try {
      await unlockData(db, password, { encrypt: false });
    } catch (e) {
      // Offline, a password changed on the server looks like a wrong one: say what to do.
      if (e instanceof CryptoError && e.code === 'wrong-password')
        throw new CryptoError(
          'wrong-password',
          `${e.message}. If the password was changed on the server, run \`fieldsim login\` with the new one first.`,
          { cause: e },
        );
      throw e;
    }
    return 'opened';
  }
  if (password === undefined || record.auth !== 'password' || record.plainState === true) return 'plain';
  const ok = await checkStoredPassword(db, password);
  if (ok === null) return 'plain';
  if (!ok)
    throw new FieldsimError(
      'auth-invalid',
      `Wrong password for ${who} on this device (checked against its last login; nothing was changed)`,
    );
  await unlockData(db, password, { encrypt: true });
  return 'migrated';
}

/**
 * After a migration the plain rows are gone from the tables but not from the file: SQLite
 * leaves old content in free pages and in the write-ahead log. Checkpoint the log away and
 * rebuild the file (VACUUM), so no case name survives on disk.
 */
export function scrubAfterMigration(file: string): void {
  // Its own connection, once the command's is closed: VACUUM fails while any statement of
  // another user of the connection is still open.
  const store = SqliteStore.open(file);
  try {
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.db.exec('VACUUM');
    store.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    store.close();
  }
}

/** Whether the worker's database in this store already has a data key (before a login). */
export async function stateIsEncrypted(deps: IndexedDbDeps, id: WorkerIdentity): Promise<boolean> {
  const db = new FieldsimDb(sessionDatabaseName(id.domain, id.username, id.as), deps);
  await db.open();
  try {
    return (await readWrappedKey(db)) !== undefined;
  } finally {
    db.close();
  }
}
