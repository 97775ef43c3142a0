import type { Hono } from 'hono';
import { storeDigests } from '../auth/digest-store.ts';
import { validElsewhere } from '../auth/other-domain.ts';
import { hashPassword } from '../auth/passwords.ts';
import { authenticateRequest, challenge } from '../auth/request-auth.ts';
import { formatApiDateTime, formatApiDateTimeUtc } from '../casexml/dates.ts';
import { readForm } from '../casexml/parse-form.ts';
import { parseXmlTree } from '../casexml/xml-tree.ts';
import { authorizationOf, type Ctx, type Env, type Hq } from '../context.ts';
import { CASE_COLUMNS, type CaseRow, rowToCase, type StoredCase } from '../db/cases.ts';
import { caseJson, groupJson, mobileWorkerJson, webUserJson, xmlToJson } from '../db/serialize-api.ts';
import { formatUsername, type GroupRow, getUserById, getUserByUsername, type UserRow } from '../db/users.ts';
import { hexId, nowIso } from '../ids.ts';
import { ApiInputError, bool, paginated, readPage } from './api-helpers.ts';
import { applyListFilters, CASE_LIST, FORM_LIST, listOrder } from './api-list-filters.ts';

export type Need = 'read' | 'admin';

/**
 * `api_auth` for the v0.5 resources: credentials are required (Basic, ApiKey or Digest;
 * the 401 offers Basic and Digest, see request-auth.ts); mobile workers
 * and web users without the permission get a bare 403 (`RequirePermissionAuthentication`).
 */
export function apiUser(hq: Hq, c: Ctx, need: Need): UserRow | Response {
  const domain = c.req.param('domain') ?? '';
  const r = authenticateRequest(hq, c, authorizationOf(c), domain);
  if (!r.ok) {
    if (r.reason === 'malformed') return c.json({ error: r.message }, 400);
    if (validElsewhere(hq.db, hq.passwords, authorizationOf(c), domain)) return c.body(null, 403);
    return challenge(hq, c, r, 'api');
  }
  if (r.user.kind !== 'web') return c.body(null, 403);
  if (need === 'admin' && r.user.is_admin !== 1) return c.body(null, 403);
  return r.user;
}

const USERNAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

interface UserInput {
  username?: unknown;
  password?: unknown;
  first_name?: unknown;
  last_name?: unknown;
  email?: unknown;
  phone_numbers?: unknown;
  default_phone_number?: unknown;
  groups?: unknown;
  user_data?: unknown;
  language?: unknown;
  primary_location?: unknown;
  locations?: unknown;
  role?: unknown;
  is_admin?: unknown;
  /** Web-user PATCH fields (`WebUserUpdate`). */
  primary_location_id?: unknown;
  assigned_location_ids?: unknown;
  profile?: unknown;
  tableau_role?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strList = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;

async function jsonBody(c: Ctx): Promise<UserInput & Record<string, unknown>> {
  const body = (await c.req.json().catch(() => undefined)) as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiInputError('The request body must be a JSON object.');
  return body as UserInput & Record<string, unknown>;
}

/** Applies the writable fields shared by create and update (user.yaml MobileWorkerWrite). */
function applyUserFields(hq: Hq, domain: string, id: string, body: UserInput): void {
  const set = (col: string, value: unknown) =>
    hq.db.prepare(`UPDATE users SET ${col} = ? WHERE id = ?`).run(value, id);
  if (str(body.first_name) !== undefined) set('first_name', body.first_name);
  if (str(body.last_name) !== undefined) set('last_name', body.last_name);
  if (str(body.email) !== undefined) set('email', body.email);
  if (str(body.language) !== undefined) set('language', body.language);
  if (str(body.role) !== undefined) set('role', body.role);
  if (typeof body.is_admin === 'boolean') set('is_admin', body.is_admin ? 1 : 0);
  let phones = strList(body.phone_numbers);
  const def = str(body.default_phone_number);
  if (def !== undefined) phones = [def, ...(phones ?? []).filter((p) => p !== def)];
  if (phones) set('phone_numbers', JSON.stringify(phones));
  if (typeof body.user_data === 'object' && body.user_data !== null && !Array.isArray(body.user_data))
    set('user_data', JSON.stringify(body.user_data));
  const locations = strList(body.locations);
  if (locations) {
    set('location_ids', JSON.stringify(locations));
    const primary = str(body.primary_location);
    set('primary_location', primary && locations.includes(primary) ? primary : (locations[0] ?? null));
  }
  const groups = strList(body.groups);
  if (groups) {
    // `groups` replaces the memberships wholesale; unknown group ids are ignored as HQ does.
    hq.db.prepare('DELETE FROM group_members WHERE user_id = ?').run(id);
    const exists = hq.db.prepare('SELECT 1 FROM groups WHERE id = ? AND domain = ?');
    for (const g of groups)
      if (exists.get(g, domain))
        hq.db.prepare('INSERT OR IGNORE INTO group_members VALUES (?, ?)').run(g, id);
  }
  const password = str(body.password);
  if (password !== undefined && password !== '') {
    set('password_hash', hashPassword(password));
    const u = getUserById(hq.db, id);
    if (u) storeDigests(hq.db, u, password);
  }
}

/** Applies a web-user PATCH; returns the validation errors (nothing is changed then). */
function patchWebUser(hq: Hq, domain: string, u: UserRow, body: UserInput): string[] {
  const errors: string[] = [];
  const assigned = body.assigned_location_ids === undefined ? undefined : strList(body.assigned_location_ids);
  if (body.assigned_location_ids !== undefined && !assigned)
    errors.push('assigned_location_ids must be a list');
  const primary = body.primary_location_id === undefined ? undefined : str(body.primary_location_id);
  if (body.primary_location_id !== undefined && primary === undefined)
    errors.push('primary_location_id must be a string');
  const known = hq.db.prepare('SELECT 1 FROM locations WHERE id = ? AND domain = ?');
  const unknown = [...(assigned ?? []), ...(primary ? [primary] : [])].filter((id) => !known.get(id, domain));
  if (unknown.length > 0) errors.push(`Could not find location ids: ${[...new Set(unknown)].join(', ')}`);
  const locations = assigned ?? (JSON.parse(u.location_ids) as string[]);
  if (primary && !locations.includes(primary))
    errors.push('Primary location must be included in the list of assigned locations.');
  const userData = body.user_data;
  const dataOk =
    userData === undefined || (typeof userData === 'object' && userData !== null && !Array.isArray(userData));
  if (!dataOk) errors.push('user_data must be an object');
  if (errors.length > 0) return errors;

  hq.db.transaction(() => {
    const set = (col: string, value: unknown) =>
      hq.db.prepare(`UPDATE users SET ${col} = ? WHERE id = ?`).run(value, u.id);
    // Fields outside WebUserUpdate (names, phone numbers) keep the emulator's looser
    // handling; user_data and locations are handled below.
    const { user_data: _data, locations: _locs, primary_location: _prim, ...rest } = body;
    applyUserFields(hq, domain, u.id, rest);
    if (userData !== undefined)
      set('user_data', JSON.stringify({ ...(JSON.parse(u.user_data) as object), ...(userData as object) }));
    if (assigned) set('location_ids', JSON.stringify(assigned));
    if (primary !== undefined) set('primary_location', primary === '' ? null : primary);
    else if (assigned && u.primary_location !== null && !assigned.includes(u.primary_location))
      set('primary_location', null);
    const profile = str(body.profile);
    if (profile !== undefined) set('profile', profile);
    const tableau = str(body.tableau_role);
    if (tableau !== undefined) set('tableau_role', tableau);
  })();
  return [];
}

function insertUser(
  hq: Hq,
  domain: string,
  kind: 'mobile' | 'web',
  username: string,
  password: string,
): string {
  const id = hexId();
  hq.db
    .prepare(
      'INSERT INTO users (id, domain, username, kind, password_hash, date_joined, email) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      id,
      domain,
      username,
      kind,
      hashPassword(password),
      nowIso().slice(0, 10),
      kind === 'web' ? username : '',
    );
  storeDigests(hq.db, { id, domain, username, kind }, password);
  return id;
}

function userInDomain(hq: Hq, c: Ctx, kind: 'mobile' | 'web'): UserRow | undefined {
  const u = getUserById(hq.db, c.req.param('id') ?? '');
  return u && u.domain === (c.req.param('domain') ?? '') && u.kind === kind && u.deleted === 0
    ? u
    : undefined;
}

function loadCases(hq: Hq, ids: string[]): StoredCase[] {
  if (ids.length === 0) return [];
  return (
    hq.db
      .prepare(`SELECT ${CASE_COLUMNS} FROM cases WHERE case_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as CaseRow[]
  ).map((r) => hq.processor.cases.withFormIds(rowToCase(r)));
}

/** Adds `child_cases` / `parent_cases` when asked (`*__full` flags of the case resource). */
function fullCaseJson(hq: Hq, c: Ctx, k: StoredCase): Record<string, unknown> {
  const out = caseJson(k);
  if (bool(c.req.query('child_cases__full'))) {
    const ids = (
      hq.db.prepare('SELECT case_id FROM case_indices WHERE referenced_id = ?').all(k.caseId) as {
        case_id: string;
      }[]
    ).map((r) => r.case_id);
    out.child_cases = Object.fromEntries(loadCases(hq, ids).map((x) => [x.caseId, caseJson(x)]));
  }
  if (bool(c.req.query('parent_cases__full'))) {
    out.parent_cases = Object.fromEntries(
      loadCases(
        hq,
        k.indices.map((i) => i.caseId),
      ).map((x) => [x.caseId, caseJson(x)]),
    );
  }
  // xforms_by_name / xforms_by_xmlns (hq:corehq/apps/api/resources/v0_4.py
  // CommCareCaseResource, UseIfRequested ToManyListDictField): the case's forms, oldest
  // first, as full form objects grouped by the form's name (the root's `name` attribute;
  // a form without one lands under "null", Python's None as a JSON key) or by its xmlns.
  const byName = bool(c.req.query('xforms_by_name__full'));
  const byXmlns = bool(c.req.query('xforms_by_xmlns__full'));
  if (byName || byXmlns) {
    const ids = k.xformIds.length > 0 ? k.xformIds : hq.processor.cases.withFormIds({ ...k }).xformIds;
    const get = hq.db.prepare("SELECT * FROM forms WHERE form_id = ? AND domain = ? AND state = 'normal'");
    const forms = ids
      .map((id) => get.get(id, k.domain) as FormApiRow | undefined)
      .filter((r): r is FormApiRow => r !== undefined);
    const group = (key: (r: FormApiRow) => string) => {
      const g: Record<string, unknown[]> = {};
      for (const r of forms) {
        const k2 = key(r);
        g[k2] = [...(g[k2] ?? []), formJson(hq, r)];
      }
      return g;
    };
    if (byName) out.xforms_by_name = group((r) => parseXmlTree(r.xml).attrs.name ?? 'null');
    if (byXmlns) out.xforms_by_xmlns = group((r) => r.xmlns);
  }
  return out;
}

interface FormApiRow {
  form_id: string;
  domain: string;
  xmlns: string;
  xml: string;
  received_on: string;
  server_modified_on: string;
  edited_on: string | null;
  app_id: string;
  build_id: string;
  problem: string;
  submit_ip: string;
  openrosa_version: string;
  meta: string;
  user_id: string;
  state: string;
  auth_user_id: string;
  indexed_on: string;
}

/** `v0_4.XFormInstanceResource` (PROTOCOL.md 9.3; schemas/form.yaml). */
function formJson(hq: Hq, r: FormApiRow): Record<string, unknown> {
  const root = parseXmlTree(r.xml);
  const meta = readForm(root).meta;
  const attachments: Record<string, unknown> = {
    'form.xml': {
      content_type: 'text/xml',
      length: Buffer.byteLength(r.xml),
      url: `/a/${r.domain}/api/form/attachment/${r.form_id}/form.xml`,
    },
  };
  for (const a of hq.db
    .prepare('SELECT name, content_type, length(data) AS length FROM form_attachments WHERE form_id = ?')
    .all(r.form_id) as { name: string; content_type: string; length: number }[])
    attachments[a.name] = {
      content_type: a.content_type,
      length: a.length,
      url: `/a/${r.domain}/api/form/attachment/${r.form_id}/${encodeURIComponent(a.name)}`,
    };
  return {
    id: r.form_id,
    domain: r.domain,
    form: xmlToJson(root),
    type: 'data',
    version: root.attrs.version ?? '1',
    uiversion: root.attrs.uiVersion ?? '1',
    submit_ip: r.submit_ip,
    metadata: {
      appVersion: meta.appVersion ?? null,
      deviceID: meta.deviceID ?? null,
      instanceID: r.form_id,
      timeStart: meta.timeStart ?? null,
      timeEnd: meta.timeEnd ?? null,
      userID: meta.userID ?? null,
      username: meta.username ?? null,
      location: meta.location ?? null,
    },
    // With a `Z`, as HQ's ES stores them; edited_on stays naive (form.yaml).
    received_on: formatApiDateTimeUtc(r.received_on),
    edited_on: formatApiDateTime(r.edited_on),
    server_modified_on: formatApiDateTimeUtc(r.server_modified_on),
    indexed_on: formatApiDateTimeUtc(r.indexed_on),
    app_id: r.app_id || null,
    build_id: r.build_id || null,
    initial_processing_complete: r.state === 'normal',
    problem: r.problem || null,
    archived: false,
    is_phone_submission: r.openrosa_version !== '',
    edited_by_user_id: r.edited_on ? r.auth_user_id : null,
    attachments,
    // Always "" on HQ: tastypie's get_resource_uri cannot reverse the domain-scoped detail
    // URL and falls back to the empty string (form.yaml `resource_uri`).
    resource_uri: '',
  };
}

/**
 * The v0.5 JSON APIs (PROTOCOL.md 9): user, web-user, group, case, form, application, with
 * tastypie's `meta`/`objects` paging. Mounted under v0.5 and v0.4.
 */
export function registerApi(app: Hono<Env>, hq: Hq): void {
  const api = (version: string, path: string) => `/a/:domain/api/${version}/${path}`;
  const routes = (path: string) => [api('v0.5', path), api('v0.4', path)];
  const on = (
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    need: Need,
    handler: (c: Ctx, user: UserRow, domain: string) => Response | Promise<Response>,
  ) => {
    for (const p of routes(path))
      app[method](p, async (c) => {
        const user = apiUser(hq, c, need);
        if (user instanceof Response) return user;
        try {
          return await handler(c, user, c.req.param('domain') ?? '');
        } catch (e) {
          if (e instanceof ApiInputError) return c.json({ error: e.message }, 400);
          throw e;
        }
      });
  };

  // ---- mobile workers
  on('get', 'user/', 'admin', (c, _u, domain) => {
    // Users page at most 1000: tastypie's default max_limit, which the user resources keep
    // (hq:docs/api/openapi/components/parameters.yaml `Limit`, used by paths/user.yaml).
    const page = readPage(c, 1000);
    const archived = bool(c.req.query('archived')) ?? false;
    const group = c.req.query('group');
    const where = ["domain = ? AND kind = 'mobile' AND deleted = 0 AND is_active = ?"];
    const args: unknown[] = [domain, archived ? 0 : 1];
    if (group) {
      const g = hq.db.prepare('SELECT 1 FROM groups WHERE id = ? AND domain = ?').get(group, domain);
      if (!g) throw new ApiInputError(`Invalid group id '${group}'`);
      where.push('id IN (SELECT user_id FROM group_members WHERE group_id = ?)');
      args.push(group);
    }
    const sqlWhere = where.join(' AND ');
    const total = (
      hq.db.prepare(`SELECT COUNT(*) AS n FROM users WHERE ${sqlWhere}`).get(...args) as { n: number }
    ).n;
    const rows = hq.db
      .prepare(`SELECT * FROM users WHERE ${sqlWhere} ORDER BY username LIMIT ? OFFSET ?`)
      .all(...args, page.limit, page.offset) as UserRow[];
    return paginated(
      c,
      page,
      total,
      rows.map((u) => mobileWorkerJson(hq.db, domain, u)),
    );
  });
  on('get', 'user/:id/', 'admin', (c, _u, domain) => {
    const u = userInDomain(hq, c, 'mobile');
    if (!u) return c.json({ error: 'The object could not be found.' }, 400);
    return c.json(mobileWorkerJson(hq.db, domain, u));
  });
  on('post', 'user/', 'admin', async (c, _u, domain) => {
    const body = await jsonBody(c);
    const short = str(body.username)?.trim().toLowerCase();
    if (!short || !USERNAME_RE.test(short))
      throw new ApiInputError('username is required and may use only a-z, 0-9, ".", "_" and "-"');
    const password = str(body.password);
    if (!password) throw new ApiInputError('password is required');
    const username = formatUsername(short, domain);
    if (getUserByUsername(hq.db, username)) throw new ApiInputError(`Username '${short}' is already taken`);
    const id = hq.db.transaction(() => {
      const newId = insertUser(hq, domain, 'mobile', username, password);
      applyUserFields(hq, domain, newId, body);
      return newId;
    })();
    // HQ answers 201 with the full object (docs claim only the id).
    return c.json(mobileWorkerJson(hq.db, domain, getUserById(hq.db, id)!), 201);
  });
  on('put', 'user/:id/', 'admin', async (c, _u, domain) => {
    const u = userInDomain(hq, c, 'mobile');
    if (!u) return c.json({ error: 'The object could not be found.' }, 400);
    const body = await jsonBody(c);
    if (body.username !== undefined && formatUsername(String(body.username), domain) !== u.username)
      throw new ApiInputError('username cannot be changed');
    hq.db.transaction(() => applyUserFields(hq, domain, u.id, body))();
    return c.json(mobileWorkerJson(hq.db, domain, getUserById(hq.db, u.id)!));
  });
  on('delete', 'user/:id/', 'admin', (c) => {
    const u = userInDomain(hq, c, 'mobile');
    if (!u) return c.body(null, 404);
    hq.db.prepare('UPDATE users SET deleted = 1 WHERE id = ?').run(u.id);
    return c.body(null, 202);
  });
  for (const [action, active] of [
    ['activate', 1],
    ['deactivate', 0],
  ] as const)
    on('post', `user/:id/${action}/`, 'admin', (c) => {
      const u = userInDomain(hq, c, 'mobile');
      if (!u) return c.json({ error_message: 'The mobile worker does not exist.' }, 404);
      hq.db.prepare('UPDATE users SET is_active = ? WHERE id = ?').run(active, u.id);
      return c.body(null, 202);
    });

  // ---- web users
  on('get', 'web-user/', 'admin', (c, _u, domain) => {
    // Same shared Limit (max 1000) as the user list (paths/web-user.yaml).
    const page = readPage(c, 1000);
    let sqlWhere = "domain = ? AND kind = 'web' AND deleted = 0";
    const args: unknown[] = [domain];
    // `web_username` narrows the list to that one username, exact match
    // (hq:docs/api/openapi/paths/web-user.yaml `listWebUsers`).
    const wanted = c.req.query('web_username');
    if (wanted !== undefined) {
      sqlWhere += ' AND username = ?';
      args.push(wanted.trim().toLowerCase());
    }
    const total = (
      hq.db.prepare(`SELECT COUNT(*) AS n FROM users WHERE ${sqlWhere}`).get(...args) as { n: number }
    ).n;
    const rows = hq.db
      .prepare(`SELECT * FROM users WHERE ${sqlWhere} ORDER BY username LIMIT ? OFFSET ?`)
      .all(...args, page.limit, page.offset) as UserRow[];
    return paginated(
      c,
      page,
      total,
      rows.map((u) => webUserJson(domain, u)),
    );
  });
  on('get', 'web-user/:id/', 'admin', (c, _u, domain) => {
    const u = userInDomain(hq, c, 'web');
    if (!u) return c.json({ error: 'The object could not be found.' }, 400);
    return c.json(webUserJson(domain, u));
  });
  on('post', 'web-user/', 'admin', async (c, _u, domain) => {
    const body = await jsonBody(c);
    const email = (str(body.email) ?? str(body.username))?.trim().toLowerCase();
    if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new ApiInputError('email is required');
    const password = str(body.password);
    if (!password) throw new ApiInputError('password is required');
    if (getUserByUsername(hq.db, email)) throw new ApiInputError(`User '${email}' already exists`);
    const id = hq.db.transaction(() => {
      const newId = insertUser(hq, domain, 'web', email, password);
      applyUserFields(hq, domain, newId, body);
      return newId;
    })();
    return c.json(webUserJson(domain, getUserById(hq.db, id)!), 201);
  });
  on('put', 'web-user/:id/', 'admin', async (c, _u, domain) => {
    const u = userInDomain(hq, c, 'web');
    if (!u) return c.json({ error: 'The object could not be found.' }, 400);
    const body = await jsonBody(c);
    hq.db.transaction(() => applyUserFields(hq, domain, u.id, body))();
    return c.json(webUserJson(domain, getUserById(hq.db, u.id)!));
  });
  // updateWebUser (hq:docs/api/openapi/paths/web-user.yaml, schemas/user.yaml
  // `WebUserUpdate`): user_data is merged onto the stored data, the other fields replace;
  // the primary location must be one of the assigned ones, and validation failures are 400
  // `{"errors": [...]}`. Tastypie's patch_detail answers 202 with the user.
  on('patch', 'web-user/:id/', 'admin', async (c, _u, domain) => {
    const u = userInDomain(hq, c, 'web');
    if (!u) return c.json({ error: 'The object could not be found.' }, 400);
    const body = await jsonBody(c);
    const errors = patchWebUser(hq, domain, u, body);
    if (errors.length > 0) return c.json({ errors }, 400);
    return c.json(webUserJson(domain, getUserById(hq.db, u.id)!), 202);
  });

  // ---- groups
  const groupIn = (c: Ctx, domain: string) =>
    hq.db.prepare('SELECT * FROM groups WHERE id = ? AND domain = ?').get(c.req.param('id'), domain) as
      | GroupRow
      | undefined;
  const setMembers = (domain: string, groupId: string, users: string[]) => {
    hq.db.prepare('DELETE FROM group_members WHERE group_id = ?').run(groupId);
    for (const uid of users) {
      const u = getUserById(hq.db, uid);
      if (!u || u.domain !== domain) throw new ApiInputError(`Unknown user id '${uid}'`);
      hq.db.prepare('INSERT OR IGNORE INTO group_members VALUES (?, ?)').run(groupId, uid);
    }
  };
  on('get', 'group/', 'admin', (c, _u, domain) => {
    const page = readPage(c);
    const total = (
      hq.db.prepare('SELECT COUNT(*) AS n FROM groups WHERE domain = ?').get(domain) as { n: number }
    ).n;
    const rows = hq.db
      .prepare('SELECT * FROM groups WHERE domain = ? ORDER BY name, id LIMIT ? OFFSET ?')
      .all(domain, page.limit, page.offset) as GroupRow[];
    return paginated(
      c,
      page,
      total,
      rows.map((g) => groupJson(hq.db, g)),
    );
  });
  on('get', 'group/:id/', 'admin', (c, _u, domain) => {
    const g = groupIn(c, domain);
    return g ? c.json(groupJson(hq.db, g)) : c.body(null, 404);
  });
  on('post', 'group/', 'admin', async (c, _u, domain) => {
    const body = await jsonBody(c);
    const name = str(body.name)?.trim();
    if (!name) throw new ApiInputError('name is required');
    const id = hexId();
    hq.db.transaction(() => {
      hq.db
        .prepare(
          'INSERT INTO groups (id, domain, name, case_sharing, reporting, metadata) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          id,
          domain,
          name,
          body.case_sharing === true ? 1 : 0,
          body.reporting === false ? 0 : 1,
          JSON.stringify(typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {}),
        );
      setMembers(domain, id, strList(body.users) ?? []);
    })();
    const g = hq.db.prepare('SELECT * FROM groups WHERE id = ?').get(id) as GroupRow;
    return c.json(groupJson(hq.db, g), 201);
  });
  on('put', 'group/:id/', 'admin', async (c, _u, domain) => {
    const g = groupIn(c, domain);
    if (!g) return c.body(null, 404);
    const body = await jsonBody(c);
    hq.db.transaction(() => {
      if (str(body.name)) hq.db.prepare('UPDATE groups SET name = ? WHERE id = ?').run(str(body.name), g.id);
      if (typeof body.case_sharing === 'boolean')
        hq.db.prepare('UPDATE groups SET case_sharing = ? WHERE id = ?').run(body.case_sharing ? 1 : 0, g.id);
      if (typeof body.reporting === 'boolean')
        hq.db.prepare('UPDATE groups SET reporting = ? WHERE id = ?').run(body.reporting ? 1 : 0, g.id);
      const users = strList(body.users);
      if (users) setMembers(domain, g.id, users);
    })();
    return c.json(groupJson(hq.db, hq.db.prepare('SELECT * FROM groups WHERE id = ?').get(g.id) as GroupRow));
  });

  // ---- cases
  on('get', 'case/', 'read', (c, _u, domain) => {
    const page = readPage(c);
    const query = { where: ['domain = ?', 'deleted = 0'], args: [domain] as unknown[] };
    applyListFilters(CASE_LIST, new URL(c.req.url).searchParams, query);
    const { args } = query;
    const sqlWhere = query.where.map((w) => `(${w})`).join(' AND ');
    const order = listOrder(CASE_LIST, c.req.query('order_by'), 'server_modified_on ASC, rowid ASC');
    const total = (
      hq.db.prepare(`SELECT COUNT(*) AS n FROM cases WHERE ${sqlWhere}`).get(...args) as { n: number }
    ).n;
    const rows = hq.db
      .prepare(`SELECT ${CASE_COLUMNS} FROM cases WHERE ${sqlWhere} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...args, page.limit, page.offset) as CaseRow[];
    return paginated(
      c,
      page,
      total,
      rows.map((r) => fullCaseJson(hq, c, hq.processor.cases.withFormIds(rowToCase(r)))),
    );
  });
  on('get', 'case/:id/', 'read', (c, _u, domain) => {
    const k = hq.processor.cases.get(c.req.param('id') ?? '');
    // An empty 404, as tastypie's get_detail answers ObjectDoesNotExist
    // (hq:docs/api/openapi/paths/case-v1.yaml getCase).
    if (!k || k.domain !== domain || k.deleted) return c.body(null, 404);
    return c.json(fullCaseJson(hq, c, k));
  });

  // ---- forms
  on('get', 'form/', 'read', (c, _u, domain) => {
    const page = readPage(c, 1000);
    const q = (k: string) => c.req.query(k);
    const query = { where: ['domain = ?', "state = 'normal'"], args: [domain] as unknown[] };
    applyListFilters(FORM_LIST, new URL(c.req.url).searchParams, query);
    if (q('case_id')) {
      query.where.push('form_id IN (SELECT form_id FROM case_transactions WHERE case_id = ?)');
      query.args.push(q('case_id'));
    }
    const { args } = query;
    const sqlWhere = query.where.map((w) => `(${w})`).join(' AND ');
    // Default ordering is newest first (`-received_on`).
    const order = listOrder(FORM_LIST, q('order_by'), 'received_on DESC, seq DESC');
    const total = (
      hq.db.prepare(`SELECT COUNT(*) AS n FROM forms WHERE ${sqlWhere}`).get(...args) as { n: number }
    ).n;
    const rows = hq.db
      .prepare(`SELECT * FROM forms WHERE ${sqlWhere} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...args, page.limit, page.offset) as FormApiRow[];
    const withCases = bool(q('cases__full'));
    return paginated(
      c,
      page,
      total,
      rows.map((r) => {
        const f = formJson(hq, r);
        if (withCases) {
          const ids = (
            hq.db
              .prepare('SELECT DISTINCT case_id FROM case_transactions WHERE form_id = ?')
              .all(r.form_id) as {
              case_id: string;
            }[]
          ).map((x) => x.case_id);
          f.cases = loadCases(hq, ids).map(caseJson);
        }
        return f;
      }),
    );
  });
  on('get', 'form/:id/', 'read', (c, _u, domain) => {
    const r = hq.db
      .prepare("SELECT * FROM forms WHERE form_id = ? AND domain = ? AND state = 'normal'")
      .get(c.req.param('id'), domain) as FormApiRow | undefined;
    // Empty, like the case 404 (hq:docs/api/openapi/paths/form.yaml getForm).
    if (!r) return c.body(null, 404);
    return c.json(formJson(hq, r));
  });
  for (const p of ['/a/:domain/api/form/attachment/:id/:name', '/a/:domain/api/form/attachment/:id/:name/'])
    app.get(p, (c) => {
      const user = apiUser(hq, c, 'read');
      if (user instanceof Response) return user;
      const domain = c.req.param('domain');
      const id = c.req.param('id');
      const name = decodeURIComponent(c.req.param('name') ?? '');
      const form = hq.db.prepare('SELECT xml FROM forms WHERE form_id = ? AND domain = ?').get(id, domain) as
        | { xml: string }
        | undefined;
      if (!form) return c.text('Not found', 404);
      if (name === 'form.xml') return c.body(form.xml, 200, { 'Content-Type': 'text/xml; charset=utf-8' });
      const a = hq.db
        .prepare('SELECT content_type, data FROM form_attachments WHERE form_id = ? AND name = ?')
        .get(id, name) as { content_type: string; data: Buffer } | undefined;
      if (!a) return c.text('Not found', 404);
      return c.body(new Uint8Array(a.data), 200, { 'Content-Type': a.content_type });
    });

  // ---- applications (Application Structure API; the list ignores paging)
  const appJson = (domain: string, id: string, doc: string) => ({
    ...(JSON.parse(doc) as Record<string, unknown>),
    resource_uri: `/a/${domain}/api/v0.5/application/${id}/`,
  });
  on('get', 'application/', 'read', (c, _u, domain) => {
    const rows = hq.db
      .prepare('SELECT id, doc FROM applications WHERE domain = ? ORDER BY id')
      .all(domain) as {
      id: string;
      doc: string;
    }[];
    return c.json({
      meta: { limit: null, offset: 0, next: null, previous: null, total_count: rows.length },
      objects: rows.map((r) => appJson(domain, r.id, r.doc)),
    });
  });
  on('get', 'application/:id/', 'read', (c, _u, domain) => {
    const r = hq.db
      .prepare('SELECT id, doc FROM applications WHERE id = ? AND domain = ?')
      .get(c.req.param('id'), domain) as { id: string; doc: string } | undefined;
    if (!r) return c.json({ error: 'The object could not be found.' }, 404);
    return c.json(appJson(domain, r.id, r.doc));
  });
}
