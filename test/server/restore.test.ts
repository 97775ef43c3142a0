import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, CASE_NS, kids, text, xml } from './helpers.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

async function restore(query = '', auth = basic('worker1'), headers: Record<string, string> = {}) {
  const res = await fetch(`${emu.url}/a/demo/phone/restore/${query}`, {
    headers: { authorization: auth, ...headers },
  });
  return { res, body: await res.text() };
}

describe('GET /a/<domain>/phone/restore/ (full restore)', () => {
  it('answers 401 with a Basic challenge without or with bad credentials', async () => {
    const none = await fetch(`${emu.url}/a/demo/phone/restore/`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const bad = await restore('', basic('worker1', 'wrong'));
    expect(bad.res.status).toBe(401);
    const otherDomain = await fetch(`${emu.url}/a/other/phone/restore/`, {
      headers: { authorization: basic('worker1@demo.commcarehq.org') },
    });
    expect(otherDomain.status).toBe(401);
  });

  it("follows HQ's payload layout (PROTOCOL.md 3.7)", async () => {
    const { res, body } = await restore('?version=2.0&items=true');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    const root = xml(body);
    expect(root.local).toBe('OpenRosaResponse');
    expect(root.ns).toBe('http://openrosa.org/http/response');
    const names = root.children.map((c) => c.local);
    expect(names.slice(0, 3)).toEqual(['message', 'Sync', 'Registration']);
    // items = every top-level element, the message included.
    expect(Number(root.attrs.items)).toBe(root.children.length);
    const message = root.children[0]!;
    expect(message.attrs.nature).toBe('ota_restore_success');
    expect(message.text).toBe('Successfully restored account worker1!');
    const sync = root.children[1]!;
    expect(sync.ns).toBe('http://commcarehq.org/sync');
    expect(text(sync, 'restore_id')).toMatch(/^[0-9a-f]{32}$/);
    const reg = root.children[2]!;
    expect(reg.ns).toBe('http://openrosa.org/user/registration');
    expect(reg.children.slice(0, 4).map((c) => c.local)).toEqual(['username', 'password', 'uuid', 'date']);
    expect(text(reg, 'username')).toBe('worker1');
    expect(text(reg, 'date')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const data = kids(kids(reg, 'user_data')[0]!, 'data');
    const keys = data.map((d) => d.attrs.key!);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toContain('commcare_project');
    // Fixtures come before any case.
    const firstCase = names.indexOf('case');
    const lastFixture = names.lastIndexOf('fixture');
    expect(lastFixture).toBeGreaterThan(2);
    expect(firstCase).toBeGreaterThan(lastFixture);
  });

  it('lists the case-sharing group in the user-groups fixture', async () => {
    const root = xml((await restore()).body);
    const fixture = kids(root, 'fixture').find((f) => f.attrs.id === 'user-groups')!;
    const uuid = text(kids(root, 'Registration')[0], 'uuid');
    expect(fixture.attrs.user_id).toBe(uuid);
    const groups = kids(kids(fixture, 'groups')[0]!, 'group');
    expect(groups).toHaveLength(1);
    expect(text(groups[0], 'name')).toBe('Demo field team');
  });

  it('sends the lookup table and the location fixture (schema first) after user-groups', async () => {
    const root = xml((await restore()).body);
    const fixtures = root.children.filter((c) => c.local === 'fixture' || c.local === 'schema');
    expect(fixtures.map((f) => `${f.local}:${f.attrs.id}`)).toEqual([
      'fixture:user-groups',
      'fixture:item-list:village',
      'schema:locations',
      'fixture:locations',
    ]);
    const villages = kids(kids(fixtures[1]!, 'village_list')[0]!, 'village');
    expect(villages.map((v) => text(v, 'name'))).toEqual([
      'Riverside',
      'Hilltop',
      'Lakeview',
      'Marketplace',
      'Old Mill',
    ]);
    expect(kids(kids(fixtures[2]!, 'indices')[0]!, 'index').map((i) => i.text)).toEqual([
      '@id',
      '@type',
      '@parent_id',
    ]);
    const loc = kids(kids(fixtures[3]!, 'locations')[0]!, 'location')[0]!;
    expect(fixtures[3]!.attrs.indexed).toBe('true');
    expect(loc.attrs.type).toBe('clinic');
    expect(text(loc, 'name')).toBe('Riverside clinic');
    const reg = kids(root, 'Registration')[0]!;
    const data = kids(kids(reg, 'user_data')[0]!, 'data');
    expect(data.find((d) => d.attrs.key === 'commcare_location_id')?.text).toBe(loc.attrs.id);
  });

  it("sends the worker's 25 demo cases with create blocks and parent indices", async () => {
    const root = xml((await restore()).body);
    const uuid = text(kids(root, 'Registration')[0], 'uuid')!;
    const cases = kids(root, 'case');
    expect(cases).toHaveLength(25);
    const byId = new Map(cases.map((c) => [c.attrs.case_id!, c]));
    let members = 0;
    for (const c of cases) {
      expect(c.ns).toBe(CASE_NS);
      expect(c.attrs.date_modified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const create = kids(c, 'create')[0]!;
      expect(create.children.map((x) => x.local)).toEqual(['case_type', 'case_name', 'owner_id']);
      expect(text(create, 'owner_id')).toBe(uuid);
      const type = text(create, 'case_type');
      expect(['household', 'member']).toContain(type);
      expect(text(kids(c, 'update')[0], 'date_opened')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (type === 'member') {
        members++;
        const parent = kids(kids(c, 'index')[0]!, 'parent')[0]!;
        expect(parent.attrs.case_type).toBe('household');
        expect(parent.attrs.relationship).toBeUndefined();
        expect(text(kids(byId.get(parent.text)!, 'create')[0], 'case_type')).toBe('household');
      }
    }
    expect(members).toBe(17);
  });

  it("does not send another worker's cases", async () => {
    const one = xml((await restore()).body);
    const two = xml((await restore('', basic('worker2'))).body);
    const ids1 = new Set(kids(one, 'case').map((c) => c.attrs.case_id));
    const ids2 = kids(two, 'case').map((c) => c.attrs.case_id);
    expect(ids2).toHaveLength(25);
    for (const id of ids2) expect(ids1.has(id)).toBe(false);
  });

  it('omits items without items=true and gives a new restore_id each time', async () => {
    const a = xml((await restore()).body);
    const b = xml((await restore()).body);
    expect(a.attrs.items).toBeUndefined();
    expect(text(a.children[1], 'restore_id')).not.toBe(text(b.children[1], 'restore_id'));
  });
});
