import type { Hono } from 'hono';
import { authenticateRequest, challenge } from '../auth/request-auth.ts';
import { authorizationOf, type Ctx, type Env, type Hq } from '../context.ts';
import { getUserByUsername, normalizeLogin, type UserRow } from '../db/users.ts';
import { FaultSyntaxError, formatFaults, parseFaults } from '../faults.ts';

/** Admin calls need an admin web user (Basic or ApiKey) of the domain named in the path. */
function requireAdmin(hq: Hq, c: Ctx, domain: string): UserRow | Response {
  const r = authenticateRequest(hq, c, authorizationOf(c), domain);
  if (!r.ok) return challenge(hq, c, r, 'api');
  if (r.user.kind !== 'web' || r.user.is_admin !== 1) return c.body(null, 403);
  return r.user;
}

/**
 * fieldsim's own control endpoints (not part of HQ), under `/a/<domain>/fieldsim/`:
 * - `GET|PUT faults/`: read or replace the fault spec (`500=0.2,latency=50ms`, text body
 *   or JSON `{"faults": "..."}`); applies to the whole emulator.
 * - `POST users/<username>/force-412/`: the user's next restore answers 412 once.
 * - `POST users/<username>/deactivate/` and `activate/`.
 * - `PUT users/<username>/loadtest-factor/` with `{"factor": N}`.
 * - `PUT rate-limits/` with `{"mode": "off" | "hq"}`.
 * - `GET|PUT toggles/` with `{"EXTENSION_CASES_SYNC_ENABLED": true|false}`: HQ's feature
 *   toggle for this domain (closing a host closes its open extensions).
 */
export function registerAdmin(app: Hono<Env>, hq: Hq): void {
  const base = '/a/:domain/fieldsim';
  app.get(`${base}/faults/`, (c) => {
    const admin = requireAdmin(hq, c, c.req.param('domain'));
    if (admin instanceof Response) return admin;
    return c.json({ faults: formatFaults(hq.faults), config: hq.faults });
  });
  app.put(`${base}/faults/`, async (c) => {
    const admin = requireAdmin(hq, c, c.req.param('domain'));
    if (admin instanceof Response) return admin;
    const raw = await c.req.text();
    let spec = raw;
    if ((c.req.header('content-type') ?? '').includes('json')) {
      try {
        spec = String((JSON.parse(raw) as { faults?: unknown }).faults ?? '');
      } catch {
        return c.json({ error: 'invalid JSON' }, 400);
      }
    }
    try {
      hq.faults = parseFaults(spec);
    } catch (e) {
      if (e instanceof FaultSyntaxError) return c.json({ error: e.message }, 400);
      throw e;
    }
    return c.json({ faults: formatFaults(hq.faults), config: hq.faults });
  });
  app.get(`${base}/toggles/`, (c) => {
    const domain = c.req.param('domain');
    const admin = requireAdmin(hq, c, domain);
    if (admin instanceof Response) return admin;
    return c.json({ EXTENSION_CASES_SYNC_ENABLED: hq.processor.extensionCasesSyncDomains.has(domain) });
  });
  app.put(`${base}/toggles/`, async (c) => {
    const domain = c.req.param('domain');
    const admin = requireAdmin(hq, c, domain);
    if (admin instanceof Response) return admin;
    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const value = body?.EXTENSION_CASES_SYNC_ENABLED;
    if (typeof value !== 'boolean')
      return c.json({ error: 'expected {"EXTENSION_CASES_SYNC_ENABLED": true|false}' }, 400);
    if (value) hq.processor.extensionCasesSyncDomains.add(domain);
    else hq.processor.extensionCasesSyncDomains.delete(domain);
    return c.json({ EXTENSION_CASES_SYNC_ENABLED: value });
  });
  const userAction = (
    path: string,
    method: 'post' | 'put',
    apply: (c: Ctx, user: UserRow) => Promise<Response | undefined> | Response | undefined,
  ) => {
    app[method](`${base}/users/:username/${path}/`, async (c) => {
      const domain = c.req.param('domain');
      const admin = requireAdmin(hq, c, domain);
      if (admin instanceof Response) return admin;
      const user = getUserByUsername(hq.db, normalizeLogin(c.req.param('username'), domain));
      if (!user || user.domain !== domain) return c.json({ error: 'no such user' }, 404);
      const early = await apply(c, user);
      if (early) return early;
      return c.json({ ok: true, username: user.username });
    });
  };
  userAction('force-412', 'post', (_c, user) => {
    hq.db.prepare('UPDATE users SET force_412 = 1 WHERE id = ?').run(user.id);
    return undefined;
  });
  userAction('deactivate', 'post', (_c, user) => {
    hq.db.prepare('UPDATE users SET is_active = 0 WHERE id = ?').run(user.id);
    return undefined;
  });
  userAction('activate', 'post', (_c, user) => {
    hq.db.prepare('UPDATE users SET is_active = 1 WHERE id = ?').run(user.id);
    return undefined;
  });
  userAction('loadtest-factor', 'put', async (c, user) => {
    const body = (await c.req.json().catch(() => ({}))) as { factor?: unknown };
    const factor = Number(body.factor);
    if (!Number.isInteger(factor) || factor < 1 || factor > 1000)
      return c.json({ error: 'factor must be an integer from 1 to 1000' }, 400);
    hq.db.prepare('UPDATE users SET loadtest_factor = ? WHERE id = ?').run(factor, user.id);
    return undefined;
  });
  app.put(`${base}/rate-limits/`, async (c) => {
    const admin = requireAdmin(hq, c, c.req.param('domain'));
    if (admin instanceof Response) return admin;
    const body = (await c.req.json().catch(() => ({}))) as { mode?: unknown };
    if (body.mode !== 'off' && body.mode !== 'hq')
      return c.json({ error: 'mode must be "off" or "hq"' }, 400);
    hq.rateLimiter.mode = body.mode;
    hq.rateLimiter.reset();
    return c.json({ mode: body.mode });
  });
}
