import { v4 as uuidv4 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiAuth,
  composeForm,
  findFormByName,
  HqApiClient,
  HqClient,
  HttpError,
  registerCaseForm,
  updateCaseForm,
} from '../../src/core/index.ts';
import type { FetchLike } from '../../src/core/platform.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The typed HQ JSON API client (issue 7) against the emulator over loopback HTTP: every
 * resource, HQ's pagination edges, filters, auth and typed errors. One emulator for the
 * file; tests that write use fresh names so their order does not matter.
 */

let hq: StartedEmulator;
const KEY = 'fieldsim-demo-key';
const adminKey: ApiAuth = { kind: 'api-key', username: 'admin@example.com', key: KEY };

function api(auth: ApiAuth = adminKey, extra: { fetch?: FetchLike; apiVersion?: string } = {}) {
  return new HqApiClient({ serverUrl: hq.url, domain: 'demo', auth, ...extra });
}

async function caught(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error('expected an HttpError');
}

async function workerId(short: string): Promise<string> {
  const w = (await api().users.all()).find((u) => u.username === `${short}@demo.commcarehq.org`);
  if (!w) throw new Error(`no ${short}`);
  return w.id;
}

beforeAll(async () => {
  hq = await startEmulator();
});
afterAll(async () => {
  await hq.close();
});

describe('HqApiClient against the emulator: auth and errors', () => {
  it('accepts the admin API key and the admin password (Basic)', async () => {
    expect((await api().users.list()).meta.total_count).toBe(2);
    const basic = api({ kind: 'basic', username: 'admin@example.com', password: 'fieldsim' });
    expect((await basic.users.list()).objects).toHaveLength(2);
  });

  it('a wrong API key is auth-invalid (401) and the key never appears in the error', async () => {
    const e = await caught(
      api({ kind: 'api-key', username: 'admin@example.com', key: 'wrong-key' }).cases.list(),
    );
    expect([e.code, e.status]).toEqual(['auth-invalid', 401]);
    expect(`${e.message} ${e.url} ${JSON.stringify(e)}`).not.toContain('wrong-key');
  });

  it('a mobile worker is forbidden (403): the JSON APIs answer web users only', async () => {
    const e = await caught(api({ kind: 'basic', username: 'worker1', password: 'fieldsim' }).forms.list());
    expect([e.code, e.status]).toEqual(['forbidden', 403]);
  });

  it('404 for an unknown case and form; 400 for an unknown user id, as HQ answers', async () => {
    const c = await caught(api().cases.get('no-such-case'));
    expect([c.code, c.status]).toEqual(['not-found', 404]);
    const f = await caught(api().forms.get('no-such-form'));
    expect([f.code, f.status]).toEqual(['not-found', 404]);
    // hq:docs/api/openapi/paths/user.yaml getMobileWorker: a miss is a 400, not a 404.
    const u = await caught(api().users.get('no-such-user'));
    expect([u.code, u.status]).toEqual(['bad-request', 400]);
    expect(u.serverMessage).toBeTruthy();
  });

  it('a negative limit is a bad-request carrying the server message', async () => {
    const e = await caught(api().cases.list({ limit: -1 }));
    expect([e.code, e.status]).toEqual(['bad-request', 400]);
    expect(e.serverMessage).toMatch(/limit/i);
  });

  it('429 from the network path, then the real answer: backs off and succeeds', async () => {
    let n = 0;
    const flaky: FetchLike = async (input, init) => {
      n++;
      if (n === 1) return new Response(null, { status: 429, headers: { 'retry-after': '0' } });
      return fetch(input, init);
    };
    const client = new HqApiClient({ serverUrl: hq.url, domain: 'demo', auth: adminKey, fetch: flaky });
    const apps = await client.applications.list();
    expect(apps).toHaveLength(1);
    expect(n).toBe(2);
  });
});

describe('HqApiClient against the emulator: applications', () => {
  it('list() returns the parsed application structure; get() the same one', async () => {
    const apps = await api().applications.list();
    expect(apps).toHaveLength(1);
    const app = apps[0]!;
    expect(app.name).toBe('fieldsim demo');
    expect(app.modules.map((m) => m.caseType)).toEqual(['household', 'member']);
    expect(app.modules[0]?.caseProperties).toContain('village');
    const follow = findFormByName(apps, 'follow up');
    expect(follow?.form.action).toBe('update');
    expect(follow?.form.xmlns).toBe('http://fieldsim.dev/demo/follow-up');
    expect(follow?.form.questions.map((q) => q.tag)).toEqual([
      'visit_count',
      'last_visit_notes',
      'household_size',
    ]);
    expect(await api().applications.get(app.id)).toEqual(app);
    const raw = await api().applications.getRaw(app.id);
    expect(raw.versions?.[0]?.version).toBe(3);
    expect(raw.resource_uri).toContain(app.id);
    expect((await caught(api().applications.get('nope'))).code).toBe('not-found');
  });
});

describe('HqApiClient against the emulator: mobile workers', () => {
  it('lists the demo workers with HQ fields', async () => {
    const page = await api().users.list();
    expect(page.meta).toMatchObject({ limit: 20, offset: 0, next: null, previous: null, total_count: 2 });
    const w1 = page.objects.find((u) => u.username === 'worker1@demo.commcarehq.org');
    expect(w1?.first_name).toBe('Wanjiru');
    expect(w1?.groups).toHaveLength(1);
    expect(w1?.user_data.commcare_project).toBe('demo');
    expect(w1?.locations).toHaveLength(1);
  });

  it('create answers the full worker, who can then log in; edit, delete', async () => {
    const users = api().users;
    const created = await users.create({
      username: 'qa-create-1',
      password: 'qa-pass',
      first_name: 'Qa',
      last_name: 'One',
      email: 'qa1@example.org',
      phone_numbers: ['+15550001'],
      user_data: { team: 'alpha' },
    });
    expect(created.id).toMatch(/\S/);
    expect(created.username).toBe('qa-create-1@demo.commcarehq.org');
    expect(created).toMatchObject({
      first_name: 'Qa',
      email: 'qa1@example.org',
      default_phone_number: '+15550001',
    });
    expect(created.user_data.team).toBe('alpha');

    // The worker is real: the phone-side SSO login accepts it.
    const phone = new HqClient({
      serverUrl: hq.url,
      domain: 'demo',
      username: 'qa-create-1',
      password: 'qa-pass',
      deviceId: 'api-test',
    });
    expect((await phone.login()).id).toBe(created.id);

    expect((await users.get(created.id)).username).toBe(created.username);
    const edited = await users.edit(created.id, { first_name: 'Quinn', user_data: { team: 'beta' } });
    expect(edited.first_name).toBe('Quinn');
    expect(edited.user_data.team).toBe('beta');
    expect(edited.last_name).toBe('One');

    // The full name is accepted and sent short, as HQ wants it.
    const dup = await caught(users.create({ username: 'qa-create-1@demo.commcarehq.org', password: 'x' }));
    expect([dup.code, dup.status]).toEqual(['bad-request', 400]);

    await users.delete(created.id);
    expect((await caught(users.delete(created.id))).code).toBe('not-found');
    expect((await users.all()).map((u) => u.id)).not.toContain(created.id);
  });

  it('deactivate hides a worker from the active list; archived lists it; activate restores it', async () => {
    const users = api().users;
    const w = await users.create({ username: 'qa-active-1', password: 'pw' });
    await users.deactivate(w.id);
    expect((await users.all()).map((u) => u.id)).not.toContain(w.id);
    expect((await users.all({ archived: true })).map((u) => u.id)).toContain(w.id);
    await users.activate(w.id);
    expect((await users.all()).map((u) => u.id)).toContain(w.id);
    await users.delete(w.id);
  });

  it('filters by group; an unknown group is a bad-request', async () => {
    const team = (await api().groups.all()).find((g) => g.name === 'Demo field team');
    expect(team).toBeDefined();
    const members = await api().users.all({ group: team!.id });
    expect(members.map((u) => u.username).sort()).toEqual([
      'worker1@demo.commcarehq.org',
      'worker2@demo.commcarehq.org',
    ]);
    expect((await caught(api().users.list({ group: 'nope' }))).code).toBe('bad-request');
  });
});

describe('HqApiClient against the emulator: web users and groups', () => {
  it('web users: list, get, create (emulator extension), edit', async () => {
    const web = api().webUsers;
    const page = await web.list();
    const admin = page.objects.find((u) => u.username === 'admin@example.com');
    expect(admin?.is_admin).toBe(true);
    expect((await web.get(admin!.id)).username).toBe('admin@example.com');
    const created = await web.create({ email: 'viewer@example.org', password: 'pw', role: 'Viewer' });
    expect(created).toMatchObject({ username: 'viewer@example.org', role: 'Viewer', is_admin: false });
    const edited = await web.edit(created.id, { role: 'Editor' });
    expect(edited.role).toBe('Editor');
    expect((await web.all()).map((u) => u.id)).toContain(created.id);
    // A web user without admin rights may read cases but not list workers.
    const viewer = api({ kind: 'basic', username: 'viewer@example.org', password: 'pw' });
    expect((await viewer.cases.list({ limit: 1 })).objects).toHaveLength(1);
    expect((await caught(viewer.users.list())).code).toBe('forbidden');
  });

  it('groups: list, create, edit membership (seen from the user side too)', async () => {
    const groups = api().groups;
    const team = (await groups.list()).objects.find((g) => g.name === 'Demo field team');
    expect(team).toMatchObject({ case_sharing: true, reporting: true });
    expect(team?.users).toHaveLength(2);
    const w1 = await workerId('worker1');
    const created = await groups.create({
      name: 'QA squad',
      case_sharing: false,
      users: [w1],
      metadata: { k: 'v' },
    });
    expect(created).toMatchObject({
      name: 'QA squad',
      case_sharing: false,
      users: [w1],
      metadata: { k: 'v' },
    });
    expect((await api().users.get(w1)).groups).toContain(created.id);
    const edited = await groups.edit(created.id, { name: 'QA squad 2', users: [] });
    expect(edited).toMatchObject({ id: created.id, name: 'QA squad 2', users: [] });
    expect((await groups.get(created.id)).name).toBe('QA squad 2');
    expect((await api().users.get(w1)).groups).not.toContain(created.id);
  });
});

describe('HqApiClient against the emulator: cases', () => {
  it('pagination: default page, next/previous links, limit over the maximum, offset past the end', async () => {
    const cases = api().cases;
    const first = await cases.list();
    expect(first.meta.limit).toBe(20);
    expect(first.meta.total_count).toBe(50);
    expect(first.objects).toHaveLength(20);
    expect(first.meta.previous).toBeNull();
    expect(first.meta.next).toMatch(/^\/a\/demo\/api\/v0\.5\/case\/\?.*offset=20/);

    const second = await cases.list({ limit: 20, offset: 20 });
    expect(second.meta.previous).toMatch(/offset=0/);
    expect(second.objects.map((c) => c.case_id)).not.toContain(first.objects[0]?.case_id);

    // tastypie caps limit at the resource's max_limit (5000 for cases, PROTOCOL.md 9.2).
    const big = await cases.list({ limit: 6000 });
    expect(big.meta.limit).toBe(5000);
    expect(big.objects).toHaveLength(50);
    expect(big.meta.next).toBeNull();

    const past = await cases.list({ offset: 1000 });
    expect(past.objects).toEqual([]);
    expect(past.meta.next).toBeNull();
    expect(past.meta.previous).not.toBeNull();
    expect(past.meta.total_count).toBe(50);
  });

  it('iterate follows next across pages: every case once, in order', async () => {
    const seen: string[] = [];
    for await (const c of api().cases.iterate({ limit: 7 })) seen.push(c.case_id);
    expect(seen).toHaveLength(50);
    expect(new Set(seen).size).toBe(50);
    const one = (await api().cases.list({ limit: 50 })).objects.map((c) => c.case_id);
    expect(seen).toEqual(one);
    expect(await api().cases.count()).toBe(50);
  });

  it('filters: owner, type, closed, name, dates, order_by', async () => {
    const cases = api().cases;
    const w1 = await workerId('worker1');
    const mine = await cases.all({ owner_id: w1, type: 'household' });
    expect(mine).toHaveLength(8);
    for (const c of mine) expect(c.properties).toMatchObject({ owner_id: w1, case_type: 'household' });
    expect(await cases.count({ owner_id: w1, closed: false })).toBe(25);
    expect(await cases.count({ owner_id: w1, closed: true })).toBe(0);
    expect(await cases.count({ user_id: w1 })).toBe(25);
    const named = await cases.all({ name: mine[0]!.properties.case_name });
    expect(named.map((c) => c.case_id)).toContain(mine[0]!.case_id);
    expect(await cases.count({ server_date_modified_start: new Date(Date.now() + 86_400_000) })).toBe(0);
    expect(await cases.count({ server_date_modified_end: new Date(Date.now() + 86_400_000) })).toBe(50);
    expect(await cases.count({ indexed_on_start: '2000-01-01' })).toBe(50);
    expect(await cases.count({ date_modified_end: '2000-01-01' })).toBe(0);
    const asc = (await cases.list({ limit: 50, order_by: 'server_date_modified' })).objects.map(
      (c) => c.case_id,
    );
    const desc = (await cases.list({ limit: 50, order_by: '-server_date_modified' })).objects.map(
      (c) => c.case_id,
    );
    expect(desc).toEqual([...asc].reverse());
  });

  it('get one case, with children or parents in full', async () => {
    const w1 = await workerId('worker1');
    const household = (await api().cases.list({ owner_id: w1, type: 'household', limit: 1 })).objects[0]!;
    const plain = await api().cases.get(household.case_id);
    expect(plain.case_id).toBe(household.case_id);
    expect(plain.child_cases).toBeUndefined();
    const withKids = await api().cases.get(household.case_id, { childCasesFull: true });
    const kids = Object.values(withKids.child_cases ?? {});
    expect(kids.length).toBeGreaterThan(0);
    const kid = kids[0]!;
    expect(kid.indices.parent).toEqual({
      case_type: 'household',
      case_id: household.case_id,
      relationship: 'child',
    });
    const withParent = await api().cases.get(kid.case_id, { parentCasesFull: true });
    expect(Object.keys(withParent.parent_cases ?? {})).toEqual([household.case_id]);
  });
});

describe('HqApiClient against the emulator: forms', () => {
  it('a submitted form is listed with its filters and read back by id', async () => {
    const phone = new HqClient({
      serverUrl: hq.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      deviceId: 'api-client-test',
    });
    const user = await phone.login();
    const now = new Date().toISOString();
    const caseId = uuidv4();
    const meta = (instanceId: string) => ({
      deviceId: 'api-client-test',
      timeStart: now,
      timeEnd: now,
      username: 'worker1',
      userId: user.id,
      instanceId,
    });
    const reg = composeForm({
      ...registerCaseForm({ caseId, caseType: 'household', caseName: 'API test household', properties: {} }),
      meta: meta(uuidv4()),
    });
    const upd = composeForm({
      ...updateCaseForm({ caseId, properties: { village: 'north' } }),
      meta: meta(uuidv4()),
    });
    for (const f of [reg, upd]) expect((await phone.submit({ xml: f.xml })).status).toBe('accepted');

    const forms = api().forms;
    const byCase = await forms.all({ case_id: caseId });
    expect(byCase.map((f) => f.id).sort()).toEqual([reg.instanceId, upd.instanceId].sort());
    const byXmlns = await forms.all({ xmlns: reg.xmlns, case_id: caseId });
    expect(byXmlns.map((f) => f.id)).toEqual([reg.instanceId]);
    expect(await forms.count({ xmlns: upd.xmlns, case_id: caseId })).toBe(1);
    // Default order is newest first (-received_on).
    expect(byCase[0]?.id).toBe(upd.instanceId);

    const got = await forms.get(reg.instanceId);
    expect(got.form['@xmlns']).toBe(reg.xmlns);
    expect(got.metadata?.username).toBe('worker1');
    expect(got.metadata?.instanceID).toBe(reg.instanceId);
    expect(got.is_phone_submission).toBe(true);
    expect(got.attachments['form.xml']?.content_type).toBe('text/xml');
    const xml = await forms.xml(got);
    expect(xml).toContain(reg.instanceId);
    expect(await forms.xml(upd.instanceId)).toContain('<village>north</village>');
    expect((await caught(forms.attachment(reg.instanceId, 'missing.jpg'))).code).toBe('not-found');

    expect(await forms.count({ received_on_start: new Date(Date.now() + 86_400_000) })).toBe(0);
    expect(await forms.count({ received_on_start: new Date(Date.now() - 3_600_000), case_id: caseId })).toBe(
      2,
    );

    const c = await api().cases.get(caseId);
    expect(c.properties).toMatchObject({ case_name: 'API test household', village: 'north' });
    expect(c.xform_ids.sort()).toEqual([reg.instanceId, upd.instanceId].sort());
    expect(await api().cases.count({ name: 'API test household' })).toBe(1);
  });
});
