import type { Db } from '../db/database.ts';
import { getUserByApiKey, getUserByUsername } from '../db/users.ts';
import { authenticate } from './authenticate.ts';
import type { PasswordCache } from './passwords.ts';

/**
 * Whether credentials that failed for `domain` are valid ones of a user of another domain.
 * HQ authenticates the user first (Django auth knows no domain) and only then checks the
 * membership, so such a request is a 403, not a 401 (`api_auth` /
 * `RequirePermissionAuthentication`, hq:corehq/apps/api/resources/auth.py).
 */
export function validElsewhere(
  db: Db,
  cache: PasswordCache,
  header: string | undefined,
  domain: string,
): boolean {
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const rest = header.slice(space + 1).trim();
  let owner: string | undefined;
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // Only full usernames (web users' emails, `name@domain.commcarehq.org`) name one user.
    if (colon > 0 && decoded.slice(0, colon).includes('@'))
      owner = getUserByUsername(db, decoded.slice(0, colon).toLowerCase())?.domain;
  } else if (scheme === 'apikey') {
    const colon = rest.indexOf(':');
    if (colon > 0) owner = getUserByApiKey(db, rest.slice(colon + 1))?.domain;
  }
  if (owner === undefined || owner === domain) return false;
  return authenticate(db, cache, header, owner).ok;
}
