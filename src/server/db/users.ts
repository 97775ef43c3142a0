import { hashApiKey } from '../auth/api-keys.ts';
import { cached, type Db } from './database.ts';

export type UserKind = 'mobile' | 'web';

export interface UserRow {
  id: string;
  domain: string;
  /** Full username: `name@<domain>.commcarehq.org` for mobile workers, an email for web users. */
  username: string;
  kind: UserKind;
  password_hash: string;
  first_name: string;
  last_name: string;
  email: string;
  phone_numbers: string;
  user_data: string;
  language: string;
  location_ids: string;
  primary_location: string | null;
  date_joined: string;
  is_active: number;
  deleted: number;
  api_key: string | null;
  role: string;
  is_admin: number;
  force_412: number;
  loadtest_factor: number;
  /** Web users: the custom user data profile's name (`""` without one). */
  profile: string;
  /** Web users: the Tableau role, null without a Tableau user. */
  tableau_role: string | null;
}

/** HQ's account root (`HQ_ACCOUNT_ROOT`, hq:corehq/apps/users/util.py). */
export const HQ_ACCOUNT_ROOT = 'commcarehq.org';

/**
 * `format_username` (hq:corehq/apps/users/util.py): lower-cased, whitespace turned into
 * dots, then `@<domain>.commcarehq.org`.
 */
export function formatUsername(shortName: string, domain: string): string {
  return `${shortName.trim().toLowerCase().replace(/\s+/g, '.')}@${domain.toLowerCase()}.${HQ_ACCOUNT_ROOT}`;
}

/** A login name as typed: full usernames and emails stay (lower-cased), short names expand. */
export function normalizeLogin(login: string, domain: string): string {
  return login.includes('@') ? login.trim().toLowerCase() : formatUsername(login, domain);
}

/** `raw_username`: the part before `@` for mobile workers (PROTOCOL.md 2.1). */
export function rawUsername(user: Pick<UserRow, 'username' | 'kind'>): string {
  if (user.kind !== 'mobile') return user.username;
  const at = user.username.indexOf('@');
  return at < 0 ? user.username : user.username.slice(0, at);
}

/**
 * Roles whose users may edit mobile workers: the domain admin and HQ's "Field Implementer"
 * preset (`UserRolePresets`, hq:corehq/apps/users/role_utils.py: edit_commcare_users).
 */
const EDIT_COMMCARE_USERS_ROLES = new Set(['admin', 'field implementer']);

export function canEditCommCareUsers(u: UserRow): boolean {
  return u.is_admin === 1 || EDIT_COMMCARE_USERS_ROLES.has(u.role.trim().toLowerCase());
}

export function getUserByUsername(db: Db, username: string): UserRow | undefined {
  return cached(db, 'SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
}

export function getUserById(db: Db, id: string): UserRow | undefined {
  return cached(db, 'SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
}

/** The user holding this API key (keys are stored hashed, see auth/api-keys.ts). */
export function getUserByApiKey(db: Db, apiKey: string): UserRow | undefined {
  return cached(db, 'SELECT * FROM users WHERE api_key = ?').get(hashApiKey(apiKey)) as UserRow | undefined;
}

export interface GroupRow {
  id: string;
  domain: string;
  name: string;
  case_sharing: number;
  reporting: number;
  metadata: string;
}

export function groupsOfUser(db: Db, userId: string): GroupRow[] {
  return db
    .prepare(
      'SELECT g.* FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name, g.id',
    )
    .all(userId) as GroupRow[];
}

export function groupMembers(db: Db, groupId: string): string[] {
  return (
    cached(db, 'SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id').all(groupId) as {
      user_id: string;
    }[]
  ).map((r) => r.user_id);
}

export interface CaseSharingGroup {
  id: string;
  name: string;
  metadata: Record<string, string>;
}

/**
 * `get_case_sharing_groups` (hq:corehq/apps/users/models.py): the user's case-sharing
 * groups plus one "fake" group per assigned location that shares cases, whose id is the
 * location id. These are what the `user-groups` fixture lists.
 */
export function caseSharingGroups(db: Db, user: UserRow): CaseSharingGroup[] {
  const out: CaseSharingGroup[] = groupsOfUser(db, user.id)
    .filter((g) => g.case_sharing === 1)
    .map((g) => ({ id: g.id, name: g.name, metadata: JSON.parse(g.metadata) as Record<string, string> }));
  const locIds = JSON.parse(user.location_ids) as string[];
  if (locIds.length > 0) {
    const stmt = cached(db, 'SELECT id, name, shares_cases FROM locations WHERE id = ?');
    for (const id of locIds) {
      const loc = stmt.get(id) as { id: string; name: string; shares_cases: number } | undefined;
      if (loc && loc.shares_cases === 1) out.push({ id: loc.id, name: loc.name, metadata: {} });
    }
  }
  return out;
}

/** `get_owner_ids`: the user's own id plus every case-sharing group id (PROTOCOL.md 3.8). */
export function ownerIds(db: Db, user: UserRow): string[] {
  return [user.id, ...caseSharingGroups(db, user).map((g) => g.id)];
}
