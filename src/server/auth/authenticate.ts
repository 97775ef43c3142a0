import type { Db } from '../db/database.ts';
import { getUserById, getUserByUsername, normalizeLogin, type UserRow } from '../db/users.ts';
import { apiKeyMatches } from './api-keys.ts';
import { type DigestNonces, verifyDigest } from './digest.ts';
import { type PasswordCache, verifyAgainstDummy } from './passwords.ts';

export type AuthResult =
  | { ok: true; user: UserRow; scheme: 'basic' | 'apikey' | 'digest' }
  /**
   * No usable credentials: answer 401 with a challenge. `digest` is set when the client
   * tried Digest: it is challenged with Digest again (`stale` when only the nonce expired).
   */
  | { ok: false; reason: 'missing' | 'invalid'; digest?: { stale: boolean } }
  /** A malformed `ApiKey` header: HQ answers 400 (`determine_authtype_from_header`). */
  | { ok: false; reason: 'malformed'; message: string }
  /** Basic auth for a deactivated or deleted mobile worker: 406 JSON (PROTOCOL.md 2.4). */
  | { ok: false; reason: 'deactivated' | 'deleted'; username: string };

function isMember(user: UserRow, domain: string): boolean {
  return user.domain === domain;
}

/** What a Digest check needs beyond the header: the request line and the nonce source. */
export interface DigestContext {
  nonces: DigestNonces;
  method: string;
  /** Path and query as received, which the header's `uri` must repeat. */
  uri: string;
}

/**
 * Checks the `Authorization` header for `domain` (hq:corehq/apps/domain/auth.py):
 * `Basic base64(user:password)` — short mobile usernames are expanded with the domain —
 * `ApiKey <username>:<key>`, or `Digest ...` when `digest` is given (see digest.ts).
 * A user of another domain is not authenticated here.
 */
export function authenticate(
  db: Db,
  cache: PasswordCache,
  header: string | undefined,
  domain: string,
  digest?: DigestContext,
): AuthResult {
  if (!header) return { ok: false, reason: 'missing' };
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic') {
    let decoded: string;
    try {
      decoded = Buffer.from(rest, 'base64').toString('utf8');
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'invalid' };
    const username = normalizeLogin(decoded.slice(0, colon), domain);
    const password = decoded.slice(colon + 1);
    const user = getUserByUsername(db, username);
    if (!user || !isMember(user, domain)) {
      verifyAgainstDummy(password);
      return { ok: false, reason: 'invalid' };
    }
    // `ensure_active_user_by_username` (hq:corehq/apps/users/decorators.py) turns the 401
    // for an inactive mobile worker into 406, whatever the password.
    if (user.kind === 'mobile' && user.deleted === 1) return { ok: false, reason: 'deleted', username };
    if (user.kind === 'mobile' && user.is_active === 0) return { ok: false, reason: 'deactivated', username };
    if (user.is_active === 0 || user.deleted === 1) {
      verifyAgainstDummy(password);
      return { ok: false, reason: 'invalid' };
    }
    if (!cache.verify(password, user.password_hash)) return { ok: false, reason: 'invalid' };
    return { ok: true, user, scheme: 'basic' };
  }
  if (scheme === 'digest' && digest) {
    const d = verifyDigest(db, domain, digest.nonces, rest, digest.method, digest.uri);
    if (!d.ok) return { ok: false, reason: 'invalid', digest: { stale: d.stale } };
    const user = getUserById(db, d.userId);
    if (!user || !isMember(user, domain)) return { ok: false, reason: 'invalid', digest: { stale: false } };
    // The same 406 for an inactive mobile worker as with Basic (`ensure_active_user_by_username`).
    if (user.kind === 'mobile' && user.deleted === 1)
      return { ok: false, reason: 'deleted', username: user.username };
    if (user.kind === 'mobile' && user.is_active === 0)
      return { ok: false, reason: 'deactivated', username: user.username };
    if (user.is_active === 0 || user.deleted === 1)
      return { ok: false, reason: 'invalid', digest: { stale: false } };
    return { ok: true, user, scheme: 'digest' };
  }
  if (scheme === 'apikey') {
    // `HQApiKeyAuthentication.extract_credentials` splits on the first ':'.
    const colon = rest.indexOf(':');
    if (colon <= 0) return { ok: false, reason: 'malformed', message: 'Bad HTTP_AUTHORIZATION header' };
    const username = normalizeLogin(rest.slice(0, colon), domain);
    const key = rest.slice(colon + 1);
    const user = getUserByUsername(db, username);
    // The digest comparison runs whether or not the user exists (constant time).
    const matches = apiKeyMatches(key, user?.api_key ?? null);
    if (!user || !matches || !isMember(user, domain) || user.is_active === 0 || user.deleted === 1)
      return { ok: false, reason: 'invalid' };
    return { ok: true, user, scheme: 'apikey' };
  }
  return { ok: false, reason: 'invalid' };
}

export const DEACTIVATED_MESSAGES = {
  deactivated: 'This user account has been deactivated. Please contact your supervisor.',
  deleted: 'This user account has been deleted. Please contact your supervisor.',
} as const;
