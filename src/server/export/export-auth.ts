import { authenticate } from '../auth/authenticate.ts';
import { validElsewhere } from '../auth/other-domain.ts';
import { authorizationOf, BASIC_CHALLENGE, type Ctx, type Hq } from '../context.ts';
import type { UserRow } from '../db/users.ts';

/**
 * The gate of the export endpoints (`basic_auth_or_try_api_key_auth` +
 * `require_permission(edit_data)`, hq:corehq/apps/api/odata/views.py): Basic or ApiKey
 * credentials of a web user with the data permission (an admin here). No credentials or
 * wrong ones: 401 with a challenge; a mobile worker, a web user without the permission
 * or valid credentials of another domain: 403.
 */
export function exportUser(hq: Hq, c: Ctx, domain: string): UserRow | Response {
  const header = authorizationOf(c);
  const r = authenticate(hq.db, hq.passwords, header, domain);
  if (!r.ok) {
    if (r.reason === 'malformed') return c.json({ error: r.message }, 400);
    if (r.reason === 'deactivated' || r.reason === 'deleted') return c.body(null, 403);
    if (validElsewhere(hq.db, hq.passwords, header, domain)) return c.body(null, 403);
    return c.body(null, 401, { 'WWW-Authenticate': BASIC_CHALLENGE });
  }
  if (r.user.kind !== 'web' || r.user.is_admin !== 1) return c.body(null, 403);
  return r.user;
}
