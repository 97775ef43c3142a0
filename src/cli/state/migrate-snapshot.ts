import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Dexie, type IndexableTypePart } from 'dexie';
import { SqliteStore } from '../../node-store/sqlite-store.ts';
import { fsyncDir } from './atomic-file.ts';
import { type DbSnapshot, decodeSnapshot, type IndexSchema } from './snapshot.ts';

/**
 * First use of a state folder written before the SQLite store (it holds `db.snapshot`, the
 * whole fake-indexeddb database): its databases are copied into a new SQLite file, which
 * then takes the name `db.sqlite` by an atomic rename, and the snapshot is renamed
 * `db.snapshot.migrated` (kept, never deleted: it is the user's data, and the way back).
 *
 * A kill at any point is safe: before the rename there is no `db.sqlite` and the snapshot
 * is untouched, so the next command starts the migration again (removing the half-written
 * copy); after it, `db.sqlite` is whole and only the snapshot's rename is left to do.
 */

export const MIGRATED_SUFFIX = '.migrated';
const TEMP_PREFIX = '.db-migrating.';

function pathSpec(kp: string | string[] | null): string {
  if (kp === null) return '';
  return Array.isArray(kp) ? `[${kp.join('+')}]` : kp;
}

function indexSpec(i: IndexSchema): string {
  return `${i.unique ? '&' : ''}${i.multiEntry ? '*' : ''}${pathSpec(i.keyPath)}`;
}

/** Dexie's schema string for the object stores of one snapshot database. */
function dexieSchema(d: DbSnapshot): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of d.stores) {
    if (s.name === '$meta') continue;
    const pk = `${s.autoIncrement ? '++' : ''}${pathSpec(s.keyPath)}`;
    out[s.name] = [pk, ...s.indexes.map(indexSpec)].join(', ');
  }
  return out;
}

async function copyInto(store: SqliteStore, d: DbSnapshot): Promise<void> {
  const { indexedDB, IDBKeyRange } = store.deps();
  const db = new Dexie(d.name, { indexedDB, IDBKeyRange });
  store.install(db);
  // As FieldsimDb: no liveQuery layers (their cache would only cost time here).
  db.unuse({ stack: 'dbcore', name: 'Cache' });
  db.unuse({ stack: 'dbcore', name: 'Observability' });
  // IndexedDB versions are Dexie's times ten.
  db.version(Math.max(1, d.version / 10)).stores(dexieSchema(d));
  await db.open();
  try {
    const stores = d.stores.filter((s) => s.name !== '$meta' && s.values.length > 0);
    if (stores.length === 0) return;
    await db.transaction(
      'rw',
      stores.map((s) => s.name),
      async () => {
        for (const s of stores) {
          const t = db.table(s.name);
          if (s.keys === null) await t.bulkPut(s.values);
          else await t.bulkPut(s.values, s.keys as IndexableTypePart[]);
        }
      },
    );
  } finally {
    db.close();
  }
}

/**
 * Migrates `<dir>/db.snapshot` into `<dir>/db.sqlite` if needed; returns whether it did.
 * Call holding the state lock.
 */
export async function migrateSnapshot(dir: string): Promise<boolean> {
  const snapshot = join(dir, 'db.snapshot');
  const target = join(dir, 'db.sqlite');
  if (!existsSync(snapshot)) return false;
  if (existsSync(target)) {
    // Killed between the two renames: the copy is whole, only set the snapshot aside.
    renameSync(snapshot, snapshot + MIGRATED_SUFFIX);
    fsyncDir(dir);
    return false;
  }
  for (const f of readdirSync(dir)) if (f.startsWith(TEMP_PREFIX)) rmSync(join(dir, f), { force: true });
  const snap = decodeSnapshot(readFileSync(snapshot), snapshot);
  const tmp = join(dir, `${TEMP_PREFIX}${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const store = SqliteStore.open(tmp);
  try {
    for (const d of snap.databases) await copyInto(store, d);
  } catch (e) {
    store.close();
    for (const f of readdirSync(dir)) if (f.startsWith(TEMP_PREFIX)) rmSync(join(dir, f), { force: true });
    throw e;
  }
  // The last connection's close checkpoints the WAL into the file and removes it.
  store.close();
  renameSync(tmp, target);
  fsyncDir(dir);
  renameSync(snapshot, snapshot + MIGRATED_SUFFIX);
  fsyncDir(dir);
  return true;
}
