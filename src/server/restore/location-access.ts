import { cached, type Db } from '../db/database.ts';
import type { UserRow } from '../db/users.ts';

/**
 * HQ's location restriction for restore-as (`_ensure_accessible_location`,
 * hq:corehq/apps/ota/utils.py, with `user_can_access_other_user`): a user whose role lacks
 * `access_all_locations` may only restore as users assigned to one of its locations or
 * their descendants. The emulator has no role permissions, so it takes a non-admin user
 * with assigned locations as such a location-restricted user; admins and users without
 * locations see everyone, as HQ's default roles do.
 */
export function isLocationRestricted(user: UserRow): boolean {
  return user.is_admin !== 1 && (JSON.parse(user.location_ids) as string[]).length > 0;
}

/** The user's locations and everything below them. */
function accessibleLocations(db: Db, user: UserRow): Set<string> {
  const out = new Set(JSON.parse(user.location_ids) as string[]);
  const children = cached(db, 'SELECT id FROM locations WHERE parent_id = ? AND domain = ?');
  const queue = [...out];
  while (queue.length > 0) {
    const id = queue.pop() as string;
    for (const row of children.all(id, user.domain) as { id: string }[])
      if (!out.has(row.id)) {
        out.add(row.id);
        queue.push(row.id);
      }
  }
  return out;
}

export function canRestoreAsByLocation(db: Db, restorer: UserRow, target: UserRow): boolean {
  if (!isLocationRestricted(restorer)) return true;
  const allowed = accessibleLocations(db, restorer);
  return (JSON.parse(target.location_ids) as string[]).some((id) => allowed.has(id));
}
