import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, DEMO_XMLNS } from '../../src/server/seed/demo-app.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, multipart } from './helpers.ts';

const KEY = 'ApiKey admin@example.com:fieldsim-demo-key';
let emu: StartedEmulator;
let w1: string;

beforeAll(async () => {
  emu = await startEmulator();
  w1 = (
    emu.app.db.prepare("SELECT id FROM users WHERE username = 'worker1@demo.commcarehq.org'").get() as {
      id: string;
    }
  ).id;
});
afterAll(async () => {
  await emu.close();
});

interface Envelope<T = Record<string, unknown>> {
  meta: {
    limit: number | null;
    offset: number;
    next: string | null;
    previous: string | null;
    total_count: number;
  };
  objects: T[];
}

async function call(path: string, init: RequestInit & { auth?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set('authorization', init.auth ?? KEY);
  if (typeof init.body === 'string') headers.set('content-type', 'application/json');
  return fetch(`${emu.url}${path.startsWith('/') ? path : `/a/demo/api/v0.5/${path}`}`, { ...init, headers });
}
async function json<T = Envelope>(
  path: string,
  init: RequestInit & { auth?: string | null } = {},
): Promise<T> {
  const res = await call(path, init);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('auth on the JSON APIs', () => {
  it('answers 401 with a challenge without credentials and 403 to mobile workers', async () => {
    for (const path of ['user/', 'case/', 'form/', 'group/', 'web-user/', 'application/']) {
      const anon = await call(path, { auth: null });
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Basic /);
      const worker = await call(path, { auth: basic('worker1') });
      expect(worker.status).toBe(403);
      expect(await worker.text()).toBe('');
    }
  });

  it('accepts Basic credentials of the admin web user', async () => {
    const res = await call('user/', { auth: basic('admin@example.com') });
    expect(res.status).toBe(200);
  });

  it('answers 403 for valid credentials of another domain (authenticated, not a member)', async () => {
    expect((await call('/a/other/api/v0.5/case/')).status).toBe(403);
  });
});

describe('user API', () => {
  it('lists the mobile workers with paging meta', async () => {
    const page = await json('user/');
    expect(page.meta).toEqual({ limit: 20, offset: 0, next: null, previous: null, total_count: 2 });
    expect(page.objects.map((u) => u.username)).toEqual([
      'worker1@demo.commcarehq.org',
      'worker2@demo.commcarehq.org',
    ]);
    const u = page.objects[0]!;
    expect(u.resource_uri).toBe(`/a/demo/api/v0.5/user/${u.id}/`);
    expect((u.user_data as Record<string, string>).commcare_project).toBe('demo');
    expect(Array.isArray(u.groups)).toBe(true);
  });

  it('pages with limit/offset and relative next/previous links', async () => {
    const first = await json('user/?limit=1');
    expect(first.meta.next).toBe('/a/demo/api/v0.5/user/?limit=1&offset=1');
    expect(first.meta.previous).toBeNull();
    const second = await json(first.meta.next!.replace('/a/demo/api/v0.5/', ''));
    expect(second.objects[0]!.username).toBe('worker2@demo.commcarehq.org');
    expect(second.meta.previous).toBe('/a/demo/api/v0.5/user/?limit=1&offset=0');
    expect(second.meta.next).toBeNull();
    const past = await json('user/?offset=10');
    expect(past.objects).toEqual([]);
    expect((await call('user/?limit=-1')).status).toBe(400);
    // tastypie's default max_limit (1000) for users, unlike the case resource's 5000.
    expect((await json('user/?limit=5000')).meta.limit).toBe(1000);
    expect((await json('web-user/?limit=5000')).meta.limit).toBe(1000);
  });

  it('creates a mobile worker (201, full object) who can then log in, edits and deletes it', async () => {
    const groupId = (emu.app.db.prepare('SELECT id FROM groups').get() as { id: string }).id;
    const res = await call('user/', {
      method: 'POST',
      body: JSON.stringify({
        username: 'worker3',
        password: 'secret3',
        first_name: 'Third',
        phone_numbers: ['+254700000003'],
        groups: [groupId],
        user_data: { district: 'Hilltop' },
      }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      username: 'worker3@demo.commcarehq.org',
      first_name: 'Third',
      default_phone_number: '+254700000003',
      groups: [groupId],
    });
    const sso = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker3', password: 'secret3' }),
    });
    expect(sso.status).toBe(200);
    const edited = await json<Record<string, unknown>>(`user/${created.id}/`, {
      method: 'PUT',
      body: JSON.stringify({ last_name: 'Worker', groups: [] }),
    });
    expect(edited).toMatchObject({ first_name: 'Third', last_name: 'Worker', groups: [] });
    expect((await call(`user/${created.id}/`, { method: 'DELETE' })).status).toBe(202);
    expect((await call(`user/${created.id}/`)).status).toBe(400);
    expect((await call(`user/${created.id}/`, { method: 'DELETE' })).status).toBe(404);
  });

  it('rejects a taken or invalid username and a missing password with 400 JSON', async () => {
    const taken = await call('user/', {
      method: 'POST',
      body: JSON.stringify({ username: 'worker1', password: 'x' }),
    });
    expect(taken.status).toBe(400);
    expect(((await taken.json()) as { error: string }).error).toMatch(/taken/);
    expect(
      (
        await call('user/', {
          method: 'POST',
          body: JSON.stringify({ username: 'Bad Name!', password: 'x' }),
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('user/', { method: 'POST', body: JSON.stringify({ username: 'nopass' }) })).status,
    ).toBe(400);
  });

  it('filters by group and answers 400 for an unknown group', async () => {
    const groupId = (emu.app.db.prepare('SELECT id FROM groups').get() as { id: string }).id;
    expect((await json(`user/?group=${groupId}`)).meta.total_count).toBe(2);
    expect((await call('user/?group=nope')).status).toBe(400);
  });

  it('deactivates and reactivates a worker; archived=true lists deactivated ones', async () => {
    expect((await call(`user/${w1}/deactivate/`, { method: 'POST' })).status).toBe(202);
    expect((await json('user/?archived=true')).objects.map((u) => u.id)).toEqual([w1]);
    expect((await call(`user/${w1}/activate/`, { method: 'POST' })).status).toBe(202);
    expect((await json('user/?archived=true')).objects).toEqual([]);
  });
});

describe('web-user API', () => {
  it('lists, shows, creates and edits web users', async () => {
    const list = await json('web-user/');
    expect(list.objects.map((u) => u.username)).toEqual(['admin@example.com']);
    expect(list.objects[0]).toMatchObject({ is_admin: true, role: 'Admin' });
    const res = await call('web-user/', {
      method: 'POST',
      body: JSON.stringify({ email: 'viewer@example.com', password: 'pw', role: 'Viewer', first_name: 'Vi' }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toMatchObject({ username: 'viewer@example.com', role: 'Viewer', is_admin: false });
    const detail = await json<Record<string, unknown>>(`web-user/${created.id}/`);
    expect(detail.first_name).toBe('Vi');
    const patched = await call(`web-user/${created.id}/`, {
      method: 'PATCH',
      body: JSON.stringify({ last_name: 'Ewer' }),
    });
    // HQ's patch_detail answers 202 with the user (paths/web-user.yaml updateWebUser).
    expect(patched.status).toBe(202);
    expect(((await patched.json()) as Record<string, unknown>).last_name).toBe('Ewer');
    // A non-admin web user may read cases but not manage users.
    expect((await call('case/', { auth: basic('viewer@example.com', 'pw') })).status).toBe(200);
    expect((await call('user/', { auth: basic('viewer@example.com', 'pw') })).status).toBe(403);
    expect((await call('web-user/0000/')).status).toBe(400);
  });
});

describe('web-user API: HQ shape, web_username filter and PATCH fields', () => {
  const locationIds = () =>
    (
      emu.app.db.prepare("SELECT id FROM locations WHERE domain = 'demo' ORDER BY id").all() as {
        id: string;
      }[]
    ).map((r) => r.id);
  let id: string;
  beforeAll(async () => {
    const res = await call('web-user/', {
      method: 'POST',
      body: JSON.stringify({
        email: 'shape@example.com',
        password: 'pw',
        user_data: { team: 'north', tier: '1' },
      }),
    });
    expect(res.status).toBe(201);
    id = ((await res.json()) as { id: string }).id;
  });

  it('lists only the user named by web_username (exact match)', async () => {
    const one = await json('web-user/?web_username=shape@example.com');
    expect(one.objects.map((u) => u.username)).toEqual(['shape@example.com']);
    expect(one.meta.total_count).toBe(1);
    expect((await json('web-user/?web_username=shape@example')).objects).toEqual([]);
    expect((await json('web-user/')).objects.length).toBeGreaterThan(1);
  });

  it("has WebUser's location, profile, user_data and tableau fields", async () => {
    const u = await json<Record<string, unknown>>(`web-user/${id}/`);
    expect(u).toMatchObject({
      primary_location_id: '',
      assigned_location_ids: [],
      profile: '',
      user_data: { team: 'north', tier: '1' },
      tableau_role: null,
    });
  });

  it('PATCH merges user_data and sets locations, profile and tableau_role (202)', async () => {
    const [loc] = locationIds();
    expect(loc).toBeDefined();
    const res = await call(`web-user/${id}/`, {
      method: 'PATCH',
      body: JSON.stringify({
        user_data: { tier: '2', shift: 'night' },
        assigned_location_ids: [loc],
        primary_location_id: loc,
        profile: 'Facility User',
        tableau_role: 'Viewer',
      }),
    });
    expect(res.status).toBe(202);
    const u = (await res.json()) as Record<string, unknown>;
    expect(u).toMatchObject({
      user_data: { team: 'north', tier: '2', shift: 'night' },
      assigned_location_ids: [loc],
      primary_location_id: loc,
      profile: 'Facility User',
      tableau_role: 'Viewer',
    });
    expect(await json<Record<string, unknown>>(`web-user/${id}/`)).toMatchObject(u);
  });

  it('PATCH answers 400 {"errors": [...]} for a primary location outside the assigned ones, changing nothing', async () => {
    const [loc] = locationIds();
    const res = await call(`web-user/${id}/`, {
      method: 'PATCH',
      body: JSON.stringify({ assigned_location_ids: [], primary_location_id: loc, profile: 'Other' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: string[] };
    expect(body.errors.length).toBeGreaterThan(0);
    expect(await json<Record<string, unknown>>(`web-user/${id}/`)).toMatchObject({
      assigned_location_ids: [loc],
      profile: 'Facility User',
    });
    const unknown = await call(`web-user/${id}/`, {
      method: 'PATCH',
      body: JSON.stringify({ assigned_location_ids: ['no-such-location'] }),
    });
    expect(unknown.status).toBe(400);
  });
});

describe('group API', () => {
  it('lists, creates and edits groups', async () => {
    const list = await json('group/');
    expect(list.objects).toHaveLength(1);
    expect(list.objects[0]).toMatchObject({ name: 'Demo field team', case_sharing: true });
    expect((list.objects[0]!.users as string[]).length).toBe(2);
    const res = await call('group/', {
      method: 'POST',
      body: JSON.stringify({ name: 'Night shift', users: [w1], metadata: { shift: 'night' } }),
    });
    expect(res.status).toBe(201);
    const g = (await res.json()) as Record<string, unknown>;
    expect(g).toMatchObject({ name: 'Night shift', case_sharing: false, users: [w1] });
    const edited = await json<Record<string, unknown>>(`group/${g.id}/`, {
      method: 'PUT',
      body: JSON.stringify({ case_sharing: true, users: [] }),
    });
    expect(edited).toMatchObject({ case_sharing: true, users: [] });
    // A case-sharing group with metadata shows in its members' user-groups fixture with group_data.
    await call(`group/${g.id}/`, { method: 'PUT', body: JSON.stringify({ users: [w1] }) });
    const restore = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker1') },
    });
    const body = await restore.text();
    expect(body).toContain(
      `<group id="${g.id}"><name>Night shift</name><group_data><data key="shift">night</data></group_data></group>`,
    );
    expect((await call('group/nope/')).status).toBe(404);
    expect((await call('group/', { method: 'POST', body: JSON.stringify({ users: [] }) })).status).toBe(400);
  });
});

describe('case API', () => {
  it('lists cases with HQ fields and filters by owner, type and closed', async () => {
    const all = await json('case/?limit=100');
    expect(all.meta.total_count).toBe(50);
    const c = all.objects[0]!;
    expect(Object.keys(c)).toEqual(
      expect.arrayContaining([
        'id',
        'case_id',
        'domain',
        'user_id',
        'date_modified',
        'closed',
        'properties',
        'indices',
      ]),
    );
    expect(c.date_modified as string).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    // indexed_on is json_format_datetime on HQ: six-digit microseconds and a Z (case.yaml).
    expect(c.indexed_on as string).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const owned = await json(`case/?owner_id=${w1}&limit=100`);
    expect(owned.meta.total_count).toBe(25);
    expect(owned.objects.every((x) => (x.properties as Record<string, string>).owner_id === w1)).toBe(true);
    expect((await json('case/?type=household')).meta.total_count).toBe(16);
    expect((await json('case/?closed=true')).meta.total_count).toBe(0);
    expect((await json('case/?closed=false')).meta.total_count).toBe(50);
  });

  it('enforces the 5000 maximum and orders by date', async () => {
    expect((await json('case/?limit=9000')).meta.limit).toBe(5000);
    const asc = await json('case/?order_by=date_modified&limit=100');
    const desc = await json('case/?order_by=-date_modified&limit=100');
    expect(asc.objects.map((x) => x.id)).toEqual(desc.objects.map((x) => x.id).reverse());
    expect((await call('case/?order_by=nonsense')).status).toBe(400);
  });

  it('sees a submitted change, filters by user, external id, name and dates', async () => {
    const form = caseForm({
      instanceId: 'api-form-1',
      caseId: 'api-case-1',
      userId: w1,
      dateModified: '2026-04-02T08:00:00.000Z',
      body: `<create><case_type>household</case_type><case_name>API house</case_name><owner_id>${w1}</owner_id></create><update><external_id>EXT-9</external_id><village>hilltop</village></update>`,
    });
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: multipart(form),
      headers: { authorization: basic('worker1') },
    });
    expect(res.status).toBe(201);
    const byExt = await json('case/?external_id=EXT-9');
    expect(byExt.objects.map((x) => x.id)).toEqual(['api-case-1']);
    expect(byExt.objects[0]!.properties).toMatchObject({
      case_name: 'API house',
      village: 'hilltop',
      external_id: 'EXT-9',
    });
    expect(byExt.objects[0]!.xform_ids).toEqual(['api-form-1']);
    expect((await json('case/?name=API%20house')).meta.total_count).toBe(1);
    expect(
      (
        await json(
          `case/?user_id=${w1}&type=household&date_modified_start=2026-04-02&date_modified_end=2026-04-02`,
        )
      ).meta.total_count,
    ).toBe(1);
    expect(
      (await json('case/?date_modified_start=2026-04-01&date_modified_end=2026-04-02')).meta.total_count,
    ).toBe(1);
    expect(
      (await json('case/?date_modified_end=2026-04-01')).objects.some((x) => x.id === 'api-case-1'),
    ).toBe(false);
    const today = new Date().toISOString().slice(0, 10);
    expect(
      (await json(`case/?server_date_modified_start=${today}&limit=100`)).meta.total_count,
    ).toBeGreaterThan(0);
    expect((await json(`case/?indexed_on_start=${today}&limit=100`)).meta.total_count).toBe(51);
    expect((await call('case/?date_modified_start=yesterday')).status).toBe(400);
    // HQ's validate_date takes naive dates and times only: an offset or a Z after the seconds is a 400.
    for (const bad of ['2026-04-01T00:00:00+00:00', '2026-04-01T00:00:00Z', '2026-04-01T00:00'])
      expect((await call(`case/?date_modified_start=${encodeURIComponent(bad)}`)).status, bad).toBe(400);
    for (const good of ['2026-04-01T00:00:00', '2026-04-01T00:00:00.123456', '2026-04-01T00:00Z'])
      expect((await call(`case/?date_modified_start=${encodeURIComponent(good)}`)).status, good).toBe(200);
  });

  it('shows a case with child_cases__full and parent_cases__full; 404 for unknown ids', async () => {
    const member = (await json('case/?type=member&limit=1')).objects[0]!;
    const parentId = (member.indices as Record<string, { case_id: string }>).parent!.case_id;
    expect(member.indices).toEqual({
      parent: { case_type: 'household', case_id: parentId, relationship: 'child' },
    });
    const detail = await json<Record<string, unknown>>(`case/${member.id}/?parent_cases__full=true`);
    expect(Object.keys(detail.parent_cases as object)).toEqual([parentId]);
    const parent = await json<Record<string, unknown>>(`case/${parentId}/?child_cases__full=true`);
    expect(Object.keys(parent.child_cases as object)).toContain(member.id);
    // HQ's detail 404 has an empty body (paths/case-v1.yaml getCase, form.yaml getForm).
    const missingCase = await call('case/does-not-exist/');
    expect(missingCase.status).toBe(404);
    expect(await missingCase.text()).toBe('');
  });
});

describe('form API', () => {
  it('lists forms newest first with metadata and filters by xmlns, case_id and dates', async () => {
    const form = caseForm({
      instanceId: 'api-form-2',
      caseId: 'api-case-1',
      userId: w1,
      xmlns: DEMO_XMLNS.followUp,
      dateModified: '2026-04-03T08:00:00.000Z',
      body: '<update><visit_count>1</visit_count></update>',
    });
    const res = await fetch(`${emu.url}/a/demo/receiver/${DEMO_APP_ID}/`, {
      method: 'POST',
      body: multipart(form),
      headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
    });
    expect(res.status).toBe(201);
    const list = await json('form/');
    // After them, the demo seed's case-import form (seeded cases come from a form, as on HQ).
    expect(list.objects.map((f) => f.id).slice(0, 2)).toEqual(['api-form-2', 'api-form-1']);
    expect(list.objects.slice(2).map((f) => (f.form as Record<string, unknown>)['@xmlns'])).toEqual([
      'http://commcarehq.org/case',
    ]);
    const f = list.objects[0]!;
    expect(f).toMatchObject({
      app_id: DEMO_APP_ID,
      is_phone_submission: true,
      type: 'data',
      archived: false,
    });
    expect(f.metadata).toMatchObject({ instanceID: 'api-form-2', userID: w1, username: 'worker1' });
    const body = f.form as Record<string, unknown>;
    expect(body['#type']).toBe('data');
    expect(body['@xmlns']).toBe(DEMO_XMLNS.followUp);
    expect((body.case as Record<string, unknown>)['@case_id']).toBe('api-case-1');
    // HQ's ES-stored form dates carry a Z with six-digit microseconds (form.yaml); resource_uri is "".
    for (const k of ['received_on', 'server_modified_on', 'indexed_on'])
      expect(f[k] as string, k).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(f.resource_uri).toBe('');
    expect((await json(`form/?xmlns=${encodeURIComponent(DEMO_XMLNS.followUp)}`)).meta.total_count).toBe(1);
    expect((await json(`form/?app_id=${DEMO_APP_ID}`)).meta.total_count).toBe(1);
    expect((await json('form/?case_id=api-case-1')).meta.total_count).toBe(2);
    const today = new Date().toISOString().slice(0, 10);
    // 3: the two and the demo's case-import form, all received today.
    expect((await json(`form/?received_on_start=${today}`)).meta.total_count).toBe(3);
    expect((await json('form/?received_on_end=2000-01-01')).meta.total_count).toBe(0);
    expect((await json('form/?order_by=received_on')).objects.map((x) => x.id).slice(1)).toEqual([
      'api-form-1',
      'api-form-2',
    ]);
    const withCases = await json('form/?case_id=api-case-1&cases__full=true&limit=1');
    expect((withCases.objects[0]!.cases as { id: string }[])[0]!.id).toBe('api-case-1');
  });

  it('shows one form and serves its XML attachment; 404 for unknown ids', async () => {
    const f = await json<Record<string, unknown>>('form/api-form-1/');
    const att = (f.attachments as Record<string, { url: string }>)['form.xml']!;
    const xmlRes = await call(att.url);
    expect(xmlRes.status).toBe(200);
    expect(await xmlRes.text()).toContain('api-case-1');
    // HQ's detail 404 has an empty body (paths/case-v1.yaml getCase, form.yaml getForm).
    const missingForm = await call('form/nope/');
    expect(missingForm.status).toBe(404);
    expect(await missingForm.text()).toBe('');
  });

  it('shows a case with xforms_by_name__full and xforms_by_xmlns__full: its forms grouped, oldest first', async () => {
    const named = caseForm({
      instanceId: 'api-form-3',
      caseId: 'api-case-1',
      userId: w1,
      xmlns: DEMO_XMLNS.followUp,
      dateModified: '2026-04-04T08:00:00.000Z',
      body: '<update><visit_count>2</visit_count></update>',
    }).replace('<data xmlns=', '<data name="Visit" xmlns=');
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: multipart(named),
      headers: { authorization: basic('worker1') },
    });
    expect(res.status).toBe(201);
    const ids = (g: unknown) =>
      Object.fromEntries(
        Object.entries(g as Record<string, { id: string }[]>).map(([k, v]) => [k, v.map((f) => f.id)]),
      );
    const plain = await json<Record<string, unknown>>('case/api-case-1/');
    expect(plain).not.toHaveProperty('xforms_by_name');
    expect(plain).not.toHaveProperty('xforms_by_xmlns');
    const c = await json<Record<string, unknown>>(
      'case/api-case-1/?xforms_by_name__full=true&xforms_by_xmlns__full=true',
    );
    expect(ids(c.xforms_by_xmlns)).toEqual({
      'http://fieldsim.dev/test/form': ['api-form-1'],
      [DEMO_XMLNS.followUp]: ['api-form-2', 'api-form-3'],
    });
    expect(ids(c.xforms_by_name)).toEqual({ null: ['api-form-1', 'api-form-2'], Visit: ['api-form-3'] });
    // Full form objects, as the form API shows them.
    const full = (c.xforms_by_name as Record<string, Record<string, unknown>[]>).Visit![0]!;
    expect(full).toMatchObject({ id: 'api-form-3', app_id: null, resource_uri: '' });
    expect((full.form as Record<string, unknown>)['@name']).toBe('Visit');
  });
});

describe('application API', () => {
  it('lists the demo application without paging and shows its structure', async () => {
    const list = await json('application/?limit=1&offset=5');
    expect(list.meta).toMatchObject({ limit: null, offset: 0, total_count: 1 });
    const app = await json<Record<string, unknown>>(`application/${DEMO_APP_ID}/`);
    const modules = app.modules as {
      case_type: string;
      case_properties: string[];
      forms: Record<string, unknown>[];
    }[];
    expect(modules.map((m) => m.case_type)).toEqual(['household', 'member']);
    const forms = modules.flatMap((m) => m.forms);
    expect(forms.map((f) => (f.name as Record<string, string>).en)).toEqual([
      'Register household',
      'Follow up',
      'Close household',
      'Register member',
    ]);
    const q = (forms[0]!.questions as Record<string, unknown>[])[1]!;
    expect(q).toMatchObject({ tag: 'village', value: '/data/village', type: 'Select' });
    expect((q.options as unknown[]).length).toBe(5);
    expect(modules[0]!.case_properties).toContain('village');
    expect((await call('application/nope/')).status).toBe(404);
  });
});

describe('API key in the query string', () => {
  it('accepts ?username=…&api_key=… as HQ does', async () => {
    const ok = await call('user/?username=admin@example.com&api_key=fieldsim-demo-key', { auth: null });
    expect(ok.status).toBe(200);
    const bad = await call('user/?username=admin@example.com&api_key=wrong', { auth: null });
    expect(bad.status).toBe(401);
  });
});
