import type { Hono } from 'hono';
import { verifyAgainstDummy } from '../auth/passwords.ts';
import type { Env, Hq } from '../context.ts';
import { ssoMobileWorker, ssoWebUser } from '../db/serialize.ts';
import { getUserByUsername, normalizeLogin } from '../db/users.ts';

/**
 * `POST /a/<domain>/api/v0.5/sso/` (PROTOCOL.md 1; `SingleSignOnResource`,
 * hq:corehq/apps/api/resources/v0_4.py): form fields `username` and `password`; 200 with
 * the user record, 400 plain text for a missing field, 403 empty for anything else.
 * GET on list or detail is a bare 403. No Authorization header is needed.
 */
export function registerSso(app: Hono<Env>, hq: Hq): void {
  for (const version of ['v0.4', 'v0.5']) {
    const path = `/a/:domain/api/${version}/sso/`;
    app.post(path, async (c) => {
      const domain = c.req.param('domain') ?? '';
      let form: Record<string, unknown>;
      try {
        form = await c.req.parseBody();
      } catch {
        form = {};
      }
      const username = typeof form.username === 'string' ? form.username : undefined;
      const password = typeof form.password === 'string' ? form.password : undefined;
      if (!username) return c.text('Missing required parameter: username', 400);
      if (!password) return c.text('Missing required parameter: password', 400);
      const user = getUserByUsername(hq.db, normalizeLogin(username, domain));
      // The password is checked for every answer (a dummy verifier for unknown users), so
      // the time taken does not tell which usernames exist or are active.
      const passwordOk = user
        ? hq.passwords.verify(password, user.password_hash)
        : verifyAgainstDummy(password);
      if (!user || !passwordOk || user.domain !== domain || user.is_active === 0 || user.deleted === 1)
        return c.body(null, 403);
      return c.json(user.kind === 'mobile' ? ssoMobileWorker(hq.db, user) : ssoWebUser(user), 200);
    });
    app.get(path, (c) => c.body(null, 403));
    app.get(`/a/:domain/api/${version}/sso/:id/`, (c) => c.body(null, 403));
  }
}
