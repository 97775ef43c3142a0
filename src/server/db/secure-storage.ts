import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { hashApiKey, isHashedApiKey } from '../auth/api-keys.ts';
import type { Db } from './db-handle.ts';

/**
 * The emulator's data folder holds password verifiers, API key digests and every case:
 * readable by its owner only, like the CLI state folder (0700 folder, 0600 files).
 * SQLite creates its -wal and -shm files with the database file's mode, so making the
 * database 0600 before SQLite opens it covers them too. Folders made by an older version
 * are tightened on open.
 */
export function prepareDataDir(dataDir: string, dbFile: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dataDir, 0o700);
  } catch {
    // A folder owned by someone else (FIELDSIM_DATA=/srv/shared): its files are still 0600.
  }
  const file = join(dataDir, dbFile);
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  return file;
}

/** Replaces API keys stored in clear (before this version) by their digest, once. */
export function hashStoredApiKeys(db: Db): void {
  const rows = db.prepare('SELECT id, api_key FROM users WHERE api_key IS NOT NULL').all() as {
    id: string;
    api_key: string;
  }[];
  const clear = rows.filter((r) => !isHashedApiKey(r.api_key));
  if (clear.length === 0) return;
  const update = db.prepare('UPDATE users SET api_key = ? WHERE id = ?');
  db.transaction(() => {
    for (const r of clear) update.run(hashApiKey(r.api_key), r.id);
  })();
}
