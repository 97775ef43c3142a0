import type { Hono } from 'hono';
import type { Ctx, Env, Hq } from '../context.ts';
import type { UserRow } from '../db/users.ts';
import { apiUser } from '../routes/api.ts';
import { ApiInputError, paginated, readPage } from '../routes/api-helpers.ts';
import {
  applyForwarderInput,
  type Forwarder,
  type ForwarderInput,
  ForwarderInputError,
  newForwarder,
} from './forwarder-store.ts';
import type { Forwarding } from './forwarding-thread.ts';
import {
  getRecord,
  listRecords,
  RECORD_STATES,
  type RecordState,
  type RepeatRecord,
  recordCounts,
} from './repeat-records.ts';

function forwarderJson(hq: Hq, f: Forwarder): Record<string, unknown> {
  return {
    id: f.id,
    type: f.type,
    domain: f.domain,
    url: f.url,
    name: f.name,
    format: f.format,
    version: f.version,
    auth_type: f.authType,
    username: f.username,
    // Never echoed back, as HQ masks stored passwords in its forms.
    password: f.password === '' ? '' : '********',
    white_listed_form_xmlns: f.whiteListedFormXmlns,
    white_listed_case_types: f.whiteListedCaseTypes,
    black_listed_users: f.blackListedUsers,
    include_app_id_param: f.includeAppIdParam,
    paused: f.paused,
    date_created: f.createdAt,
    record_counts: recordCounts(hq.db, f.id),
    resource_uri: `/a/${f.domain}/api/v0.5/data-forwarding/${f.id}/`,
  };
}

export function recordJson(r: RepeatRecord): Record<string, unknown> {
  return {
    id: String(r.id),
    repeater_id: r.forwarderId,
    domain: r.domain,
    payload_type: r.payloadKind,
    payload_id: r.payloadId,
    state: r.state,
    attempts: r.attempts,
    registered_at: r.registeredAt,
    last_checked: r.lastAttemptAt,
    next_check: r.nextCheck,
    succeeded: r.state === 'success',
    succeeded_at: r.succeededAt,
    failure_reason: r.failureReason,
    last_response: r.lastAttemptAt === null ? null : { status: r.lastStatus, body: r.lastResponse },
  };
}

async function body(c: Ctx): Promise<ForwarderInput> {
  const b = (await c.req.json().catch(() => undefined)) as unknown;
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw new ApiInputError('The request body must be a JSON object.');
  return b as ForwarderInput;
}

/**
 * HQ's data-forwarding resource (`RepeaterResource`, hq:corehq/apps/api/resources/v0_4.py:
 * `resource_name = 'data-forwarding'`, list GET/POST, detail GET/PUT/DELETE,
 * `DomainAdminAuthentication`), plus the repeat-record log at `<id>/records/` (HQ shows it
 * in its web UI; the emulator exposes it through the API).
 */
export function registerForwarding(app: Hono<Env>, hq: Hq, engine: Forwarding): void {
  const store = engine.store;
  const on = (
    method: 'get' | 'post' | 'put' | 'delete',
    path: string,
    handler: (c: Ctx, domain: string, user: UserRow) => Response | Promise<Response>,
  ) => {
    for (const v of ['v0.5', 'v0.4'])
      app[method](`/a/:domain/api/${v}/data-forwarding/${path}`, async (c) => {
        const domain = c.req.param('domain') ?? '';
        const user = apiUser(hq, c, 'admin');
        // apiUser answers 403 for another domain's valid credentials, as HQ does.
        if (user instanceof Response) return user;
        try {
          return await handler(c, domain, user);
        } catch (e) {
          if (e instanceof ApiInputError) return c.json({ error: e.message }, 400);
          if (e instanceof ForwarderInputError) return c.json({ error: e.message, field: e.field }, 400);
          throw e;
        }
      });
  };
  const found = (c: Ctx, domain: string): Forwarder | Response =>
    store.get(domain, c.req.param('id') ?? '') ?? c.json({ error: 'Not found' }, 404);

  on('get', '', (c, domain) => {
    const page = readPage(c, 1000);
    const all = store.list(domain);
    return paginated(
      c,
      page,
      all.length,
      all.slice(page.offset, page.offset + page.limit).map((f) => forwarderJson(hq, f)),
    );
  });
  on('post', '', async (c, domain) => {
    const input = await body(c);
    if (input.type === undefined) throw new ForwarderInputError('type', 'type is required');
    const f = store.create(applyForwarderInput(newForwarder(domain), input));
    engine.wake(f.id);
    return c.json(forwarderJson(hq, f), 201, { Location: `/a/${domain}/api/v0.5/data-forwarding/${f.id}/` });
  });
  on('get', ':id/', (c, domain) => {
    const f = found(c, domain);
    return f instanceof Response ? f : c.json(forwarderJson(hq, f));
  });
  on('put', ':id/', async (c, domain) => {
    const f = found(c, domain);
    if (f instanceof Response) return f;
    const next = applyForwarderInput(f, await body(c));
    store.update(next);
    engine.wake(f.id);
    return c.json(forwarderJson(hq, next));
  });
  on('delete', ':id/', (c, domain) => {
    const id = c.req.param('id') ?? '';
    if (!store.delete(domain, id)) return c.json({ error: 'Not found' }, 404);
    engine.wake(id);
    return c.body(null, 204);
  });
  on('get', ':id/records/', (c, domain) => {
    const f = found(c, domain);
    if (f instanceof Response) return f;
    const page = readPage(c, 1000);
    const state = c.req.query('state');
    if (state !== undefined && !(RECORD_STATES as readonly string[]).includes(state))
      throw new ApiInputError(`state must be one of ${RECORD_STATES.join(', ')}`);
    const payloadId = c.req.query('payload_id');
    const { total, records } = listRecords(hq.db, f.id, {
      ...(state ? { state: state as RecordState } : {}),
      ...(payloadId ? { payloadId } : {}),
      limit: page.limit,
      offset: page.offset,
    });
    return paginated(c, page, total, records.map(recordJson));
  });
  on('get', ':id/records/:rid/', (c, domain) => {
    const f = found(c, domain);
    if (f instanceof Response) return f;
    const r = getRecord(hq.db, f.id, Number(c.req.param('rid')));
    return r ? c.json(recordJson(r)) : c.json({ error: 'Not found' }, 404);
  });
}
