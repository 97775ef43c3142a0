import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUserByUsername } from '../../src/server/db/users.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, CASE_NS, kids, multipart, text, xml } from './helpers.ts';

let emu: StartedEmulator;
let w1: string;
let w2: string;
beforeAll(async () => {
  emu = await startEmulator();
  w1 = getUserByUsername(emu.app.db, 'worker1@demo.commcarehq.org')!.id;
  w2 = getUserByUsername(emu.app.db, 'worker2@demo.commcarehq.org')!.id;
});
afterAll(async () => {
  await emu.close();
});

function block(caseId: string, body: string, user: string): string {
  return `<case xmlns="${CASE_NS}" case_id="${caseId}" date_modified="2026-05-01T00:00:00Z" user_id="${user}">${body}</case>`;
}
async function submit(id: string, blocks: string[], user = 'worker2') {
  const form = `<data xmlns="http://fieldsim.dev/test/lq">${blocks.join('')}<meta><instanceID>${id}</instanceID></meta></data>`;
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: { authorization: basic(user), 'X-OpenRosa-Version': '3.0' },
  });
  expect(res.status).toBe(201);
}
async function restoredIds(user: string): Promise<Map<string, ReturnType<typeof xml>>> {
  const res = await fetch(`${emu.url}/a/demo/phone/restore/`, { headers: { authorization: basic(user) } });
  return new Map(kids(xml(await res.text()), 'case').map((c) => [c.attrs.case_id!, c]));
}

describe('livequery selection', () => {
  it("sends a live case's closed parent and an unowned open extension of it", async () => {
    await submit('lq-1', [
      block(
        'lq-parent',
        `<create><case_type>household</case_type><case_name>p</case_name><owner_id>${w2}</owner_id></create><close/>`,
        w2,
      ),
      block(
        'lq-child',
        `<create><case_type>member</case_type><case_name>c</case_name><owner_id>${w1}</owner_id></create><index><parent case_type="household">lq-parent</parent></index>`,
        w2,
      ),
      block(
        'lq-ext',
        '<create><case_type>visit</case_type><case_name>e</case_name><owner_id>-</owner_id></create><index><host case_type="member" relationship="extension">lq-child</host></index>',
        w2,
      ),
      block(
        'lq-other',
        `<create><case_type>household</case_type><case_name>o</case_name><owner_id>${w2}</owner_id></create>`,
        w2,
      ),
    ]);
    const got = await restoredIds('worker1');
    expect(got.has('lq-child')).toBe(true);
    // Subcase_Ownership / Live_Dependence: the closed parent of a live child is sent, closed.
    expect(got.has('lq-parent')).toBe(true);
    expect(kids(got.get('lq-parent')!, 'close')).toHaveLength(1);
    // Extension_retention: an open extension of a live host is sent, with relationship="extension".
    expect(got.has('lq-ext')).toBe(true);
    const host = kids(kids(got.get('lq-ext')!, 'index')[0]!, 'host')[0]!;
    expect(host.attrs.relationship).toBe('extension');
    expect(text(kids(got.get('lq-ext')!, 'create')[0], 'owner_id')).toBe('-');
    expect(got.has('lq-other')).toBe(false);
  });

  it('does not send an owned extension of a closed host (Delegate_Closure)', async () => {
    await submit('lq-2', [
      block(
        'lq-host2',
        `<create><case_type>household</case_type><case_name>h</case_name><owner_id>${w2}</owner_id></create><close/>`,
        w2,
      ),
      block(
        'lq-ext2',
        `<create><case_type>visit</case_type><case_name>e2</case_name><owner_id>${w1}</owner_id></create><index><host case_type="household" relationship="extension">lq-host2</host></index>`,
        w2,
      ),
    ]);
    const got = await restoredIds('worker1');
    expect(got.has('lq-ext2')).toBe(false);
    expect(got.has('lq-host2')).toBe(false);
  });

  it('shares cases owned by a case-sharing location, listed as a group in user-groups', async () => {
    const loc = emu.app.db.prepare('SELECT id FROM locations').get() as { id: string };
    emu.app.db.prepare('UPDATE locations SET shares_cases = 1 WHERE id = ?').run(loc.id);
    await submit('lq-3', [
      block(
        'lq-loc-case',
        `<create><case_type>household</case_type><case_name>l</case_name><owner_id>${loc.id}</owner_id></create>`,
        w2,
      ),
    ]);
    const res = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker1') },
    });
    const root = xml(await res.text());
    const groups = kids(
      kids(kids(root, 'fixture').find((f) => f.attrs.id === 'user-groups')!, 'groups')[0]!,
      'group',
    );
    expect(groups.map((g) => g.attrs.id)).toContain(loc.id);
    expect(kids(root, 'case').some((c) => c.attrs.case_id === 'lq-loc-case')).toBe(true);
  });

  it('answers 406 user.deleted for a deleted mobile worker', async () => {
    const res = await fetch(`${emu.url}/a/demo/api/v0.5/user/${w2}/`, {
      method: 'DELETE',
      headers: { authorization: 'ApiKey admin@example.com:fieldsim-demo-key' },
    });
    expect(res.status).toBe(202);
    const r = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker2') },
    });
    expect(r.status).toBe(406);
    expect(((await r.json()) as { error: string }).error).toBe('user.deleted');
  });
});
