import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCaseBlock } from '../../src/core/protocol/casexml/apply-case-block.ts';
import type { CaseRecord } from '../../src/core/protocol/casexml/case-types.ts';
import { fromString, parseRestoreAll } from '../../src/core/protocol/restore/restore-parser.ts';
import { getUserByUsername, ownerIds } from '../../src/server/db/users.ts';
import { liveQuery } from '../../src/server/restore/generate.ts';
import { caseStateHash } from '../../src/server/restore/state-hash.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, kids, multipart, text, xml } from './helpers.ts';

let emu: StartedEmulator;
let w1: string;
let w2: string;
let groupId: string;
beforeAll(async () => {
  emu = await startEmulator();
  w1 = getUserByUsername(emu.app.db, 'worker1@demo.commcarehq.org')!.id;
  w2 = getUserByUsername(emu.app.db, 'worker2@demo.commcarehq.org')!.id;
  groupId = (emu.app.db.prepare('SELECT id FROM groups').get() as { id: string }).id;
});
afterAll(async () => {
  await emu.close();
});

/** A tiny phone: the case ids it holds and its sync token. */
interface Phone {
  user: string;
  /** Login as: `user` authenticates and the phone belongs to this mobile worker. */
  as?: string;
  token: string;
  cases: Map<string, CaseRecord>;
}

async function restoreRaw(user: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${emu.url}/a/demo/phone/restore/${query}`, {
    headers: { authorization: basic(user), ...headers },
  });
  return { res, body: await res.text() };
}

/** Full or incremental restore applied with fieldsim's own core parser and case rules. */
async function sync(phone: Phone | string): Promise<{ phone: Phone; sent: string[]; body: string }> {
  const p: Phone = typeof phone === 'string' ? { user: phone, token: '', cases: new Map() } : phone;
  const asParam = p.as ? `&as=${p.as}` : '';
  const query = p.token
    ? `?version=2.0${asParam}&since=${p.token}&state=ccsh:${caseStateHash(p.cases.keys())}`
    : `?version=2.0${asParam}`;
  const { res, body } = await restoreRaw(p.user, query);
  expect(res.status).toBe(200);
  const sent: string[] = [];
  for (const e of await parseRestoreAll(fromString(body))) {
    if (e.kind === 'sync') p.token = e.restoreId;
    if (e.kind === 'case') {
      sent.push(e.block.caseId);
      const next = applyCaseBlock(p.cases.get(e.block.caseId), e.block);
      if (next) p.cases.set(e.block.caseId, next);
    }
  }
  // The phone's purge: keep what the server says is live for this user.
  const user = getUserByUsername(emu.app.db, `${p.as ?? p.user}@demo.commcarehq.org`)!;
  const live = liveQuery(emu.app.db, 'demo', ownerIds(emu.app.db, user)).live;
  for (const id of [...p.cases.keys()]) if (!live.has(id)) p.cases.delete(id);
  return { phone: p, sent, body };
}

async function submit(user: string, form: string, token?: string) {
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: {
      authorization: basic(user),
      'X-OpenRosa-Version': '3.0',
      ...(token ? { 'X-CommCareHQ-LastSyncToken': token } : {}),
    },
  });
  expect(res.status).toBe(201);
}

let n = 0;
const nextDate = () => new Date(Date.UTC(2026, 5, 1, 0, n++)).toISOString();

function ownCase(userId: string, caseId: string, owner: string, extra = '') {
  return caseForm({
    instanceId: `f-${caseId}-${n}`,
    caseId,
    userId,
    dateModified: nextDate(),
    body: `<create><case_type>household</case_type><case_name>${caseId}</case_name><owner_id>${owner}</owner_id></create>${extra}`,
  });
}
/** A household case the phone made itself, as the phone holds it before the next sync. */
function phoneMadeHousehold(caseId: string, userId: string): CaseRecord {
  return {
    caseId,
    caseType: 'household',
    caseName: caseId,
    ownerId: userId,
    closed: false,
    dateOpened: '',
    lastModified: '',
    userId,
    externalId: '',
    properties: {},
    indices: [],
    attachments: [],
  };
}

function update(userId: string, caseId: string, body: string) {
  return caseForm({ instanceId: `u-${caseId}-${n}`, caseId, userId, dateModified: nextDate(), body });
}

describe('full restore parsed by fieldsim core', () => {
  it("equals the emulator's live cases for the user", async () => {
    const { phone } = await sync('worker1');
    const live = liveQuery(
      emu.app.db,
      'demo',
      ownerIds(emu.app.db, getUserByUsername(emu.app.db, 'worker1@demo.commcarehq.org')!),
    ).live;
    expect(new Set(phone.cases.keys())).toEqual(live);
    for (const c of phone.cases.values()) {
      const stored = emu.app.hq.processor.cases.get(c.caseId)!;
      expect(c).toMatchObject({
        caseType: stored.caseType,
        caseName: stored.name,
        ownerId: stored.ownerId,
        closed: stored.closed,
        properties: stored.properties,
      });
      expect(c.indices).toEqual(stored.indices);
    }
  });
});

describe('incremental sync with sync tokens', () => {
  let phone: Phone;
  beforeAll(async () => {
    phone = (await sync('worker1')).phone;
  });

  it('sends nothing when nothing changed', async () => {
    const before = phone.token;
    const r = await sync(phone);
    expect(r.sent).toEqual([]);
    expect(phone.token).not.toBe(before);
  });

  it("sends another user's change once, without create, then not again", async () => {
    const target = [...phone.cases.values()].find((c) => c.caseType === 'household')!;
    await submit('worker2', update(w2, target.caseId, '<update><visit_count>7</visit_count></update>'));
    const r1 = await sync(phone);
    expect(r1.sent).toEqual([target.caseId]);
    const block = kids(xml(r1.body), 'case')[0]!;
    expect(kids(block, 'create')).toHaveLength(0);
    const upd = kids(block, 'update')[0]!;
    expect(upd.children.slice(0, 3).map((c) => c.local)).toEqual(['case_type', 'case_name', 'owner_id']);
    expect(text(upd, 'visit_count')).toBe('7');
    expect(phone.cases.get(target.caseId)!.properties.visit_count).toBe('7');
    expect((await sync(phone)).sent).toEqual([]);
  });

  it("does not echo the phone's own change made with X-CommCareHQ-LastSyncToken", async () => {
    const target = [...phone.cases.values()].find((c) => c.caseType === 'member')!;
    await submit('worker1', update(w1, target.caseId, '<update><age>41</age></update>'), phone.token);
    phone.cases.get(target.caseId)!.properties.age = '41';
    expect((await sync(phone)).sent).toEqual([]);
  });

  it('sends the change back when the phone submitted without the token', async () => {
    const target = [...phone.cases.values()].find((c) => c.caseType === 'member')!;
    await submit('worker1', update(w1, target.caseId, '<update><age>42</age></update>'));
    expect((await sync(phone)).sent).toEqual([target.caseId]);
  });

  it('adds a case the phone created with its token to the footprint: the state hash still matches', async () => {
    await submit('worker1', ownCase(w1, 'phone-made', w1), phone.token);
    phone.cases.set('phone-made', phoneMadeHousehold('phone-made', w1));
    const r = await sync(phone);
    expect(r.sent).toEqual([]);
    expect(phone.cases.has('phone-made')).toBe(true);
  });

  it('drops a case the phone closed with its token from the footprint, as the phone purges it', async () => {
    await submit('worker1', ownCase(w1, 'phone-closed', w1), phone.token);
    await submit('worker1', update(w1, 'phone-closed', '<close/>'), phone.token);
    // The phone applied both forms and its purge removed the closed, childless case.
    const r = await sync(phone);
    expect(r.sent).toEqual([]);
    expect(phone.cases.has('phone-closed')).toBe(false);
  });

  it('sends a case shared through the group with create, then its close once', async () => {
    await submit('worker2', ownCase(w2, 'shared-1', groupId));
    const r1 = await sync(phone);
    expect(r1.sent).toEqual(['shared-1']);
    expect(kids(kids(xml(r1.body), 'case')[0]!, 'create')).toHaveLength(1);
    await submit('worker2', update(w2, 'shared-1', '<close/>'));
    const r2 = await sync(phone);
    expect(r2.sent).toEqual(['shared-1']);
    expect(kids(kids(xml(r2.body), 'case')[0]!, 'close')).toHaveLength(1);
    expect(phone.cases.has('shared-1')).toBe(false);
    expect((await sync(phone)).sent).toEqual([]);
  });

  it('sends a reassigned case with its new owner, and the phone purges it', async () => {
    const target = [...phone.cases.values()].find((c) => c.caseType === 'household' && c.ownerId === w1)!;
    await submit('worker2', update(w2, target.caseId, `<update><owner_id>${w2}</owner_id></update>`));
    const r = await sync(phone);
    expect(r.sent).toContain(target.caseId);
    const block = kids(xml(r.body), 'case').find((c) => c.attrs.case_id === target.caseId)!;
    expect(text(kids(block, 'update')[0], 'owner_id')).toBe(w2);
    // Its members stay live (owned by worker1) and keep the household as a parent.
    expect(phone.cases.has(target.caseId)).toBe(
      [...phone.cases.values()].some((c) => c.indices.some((i) => i.caseId === target.caseId)),
    );
  });

  it('omits fixtures on an incremental sync with skip_fixtures=true, but not on a full one', async () => {
    const inc = await restoreRaw(
      'worker1',
      `?since=${phone.token}&state=ccsh:${caseStateHash(phone.cases.keys())}&skip_fixtures=true`,
    );
    expect(kids(xml(inc.body), 'fixture')).toHaveLength(0);
    const full = await restoreRaw('worker1', '?skip_fixtures=true');
    expect(kids(xml(full.body), 'fixture').length).toBeGreaterThan(0);
  });
});

describe('login as: a web user restores and submits for worker1', () => {
  // HQ's _update_sync_logs (hq:corehq/ex-submodules/casexml/apps/case/xform.py) updates the
  // sync log the form's last_sync_token names (xform.get_sync_token() loads it by id) with no
  // check of who submitted: in login as the submitter is the web user, the log is worker1's.
  let phone: Phone;
  beforeAll(async () => {
    phone = (await sync({ user: 'admin@example.com', as: 'worker1', token: '', cases: new Map() })).phone;
    expect(phone.cases.size).toBeGreaterThan(0);
  });

  it("keeps the phone's token valid after a case it created and does not echo its update", async () => {
    await submit('admin@example.com', ownCase(w1, 'login-as-made', w1), phone.token);
    phone.cases.set('login-as-made', phoneMadeHousehold('login-as-made', w1));
    const r1 = await sync(phone);
    expect(r1.sent).toEqual([]);

    const target = [...phone.cases.values()].find((c) => c.caseType === 'member')!;
    await submit(
      'admin@example.com',
      update(w1, target.caseId, '<update><age>51</age></update>'),
      phone.token,
    );
    expect((await sync(phone)).sent).toEqual([]);
  });
});

describe('412 ota_restore_error', () => {
  async function expect412(user: string, query: string) {
    const { res, body } = await restoreRaw(user, query);
    expect(res.status).toBe(412);
    const root = xml(body);
    expect(root.ns).toBe('http://openrosa.org/http/response');
    expect(kids(root, 'message')[0]!.attrs.nature).toBe('ota_restore_error');
  }

  it('for an unknown token', async () => {
    await expect412('worker1', '?since=0123456789abcdef0123456789abcdef');
  });

  it("for another user's token", async () => {
    const { phone } = await sync('worker2');
    await expect412('worker1', `?since=${phone.token}`);
  });

  it('for a wrong case-state hash, but not for a Web Apps device', async () => {
    const { phone } = await sync('worker1');
    await expect412('worker1', `?since=${phone.token}&state=ccsh:00000000000000000000000000000000`);
    const web = await restoreRaw(
      'worker1',
      `?since=${phone.token}&state=ccsh:00000000000000000000000000000000&device_id=WebAppsLogin-x`,
    );
    expect(web.res.status).toBe(200);
  });

  it('accepts an upper-case CCSH: prefix and the matching hash', async () => {
    const { phone } = await sync('worker1');
    const ok = await restoreRaw(
      'worker1',
      `?since=${phone.token}&state=CCSH:${caseStateHash(phone.cases.keys())}`,
    );
    expect(ok.res.status).toBe(200);
  });

  it('for an expired token: only the newest five logs per user and device are kept', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { body } = await restoreRaw('worker2', '?device_id=expiry-test');
      tokens.push(/<restore_id>([0-9a-f]+)<\/restore_id>/.exec(body)![1]!);
    }
    await expect412('worker2', `?since=${tokens[0]}&device_id=expiry-test`);
    const ok = await restoreRaw('worker2', `?since=${tokens[5]}&device_id=expiry-test`);
    expect(ok.res.status).toBe(200);
  });

  it('for a bad version', async () => {
    await expect412('worker1', '?version=9.9');
  });

  it('for a user_id that is not the authenticated user', async () => {
    await expect412('worker1', `?user_id=${w2}`);
    expect((await restoreRaw('worker1', `?user_id=${w1}`)).res.status).toBe(200);
  });

  it('once after the per-user force-412 switch', async () => {
    const res = await fetch(`${emu.url}/a/demo/fieldsim/users/worker1/force-412/`, {
      method: 'POST',
      headers: { authorization: 'ApiKey admin@example.com:fieldsim-demo-key' },
    });
    expect(res.status).toBe(200);
    await expect412('worker1', '');
    expect((await restoreRaw('worker1', '')).res.status).toBe(200);
  });
});
