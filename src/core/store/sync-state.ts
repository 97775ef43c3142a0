import type { RegistrationRecord } from '../protocol/restore/restore-types.ts';
import type { FieldsimDb } from './fieldsim-db.ts';

/**
 * What the last restore left behind, in the `meta` table: the sync token (`restore_id`,
 * sent back as `since`), the Registration block, the owner ids the purge uses (the user
 * id plus the `user-groups` group ids, PROTOCOL.md 3.8 and 5.1) and the last sync time.
 */

export const META = {
  syncToken: 'sync.token',
  registration: 'sync.registration',
  groupIds: 'sync.groupIds',
  lastSync: 'sync.lastSync',
} as const;

async function getValue<T>(db: FieldsimDb, key: string): Promise<T | undefined> {
  const row = await db.meta.get(key);
  return row === undefined ? undefined : (row.value as T);
}

export async function getSyncToken(db: FieldsimDb): Promise<string | null> {
  return (await getValue<string>(db, META.syncToken)) ?? null;
}

export async function getRegistration(db: FieldsimDb): Promise<RegistrationRecord | null> {
  return (await getValue<RegistrationRecord>(db, META.registration)) ?? null;
}

/** Group ids from the last `user-groups` fixture. */
export async function getGroupIds(db: FieldsimDb): Promise<string[]> {
  return (await getValue<string[]>(db, META.groupIds)) ?? [];
}

/**
 * The ids a case must be owned by to be kept: the user's uuid and group ids. Empty when
 * no restore has told us who the user is.
 */
export async function getOwnerIds(db: FieldsimDb): Promise<string[]> {
  const reg = await getRegistration(db);
  const groups = await getGroupIds(db);
  return reg === null || reg.uuid === '' ? groups : [reg.uuid, ...groups.filter((g) => g !== reg.uuid)];
}

/** Milliseconds since the epoch of the last completed restore or sync, or null. */
export async function getLastSync(db: FieldsimDb): Promise<number | null> {
  return (await getValue<number>(db, META.lastSync)) ?? null;
}

export async function setLastSync(db: FieldsimDb, ms: number): Promise<void> {
  await db.meta.put({ key: META.lastSync, value: ms });
}
