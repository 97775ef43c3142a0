import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { login, type Session, type SessionPlatform } from '../../src/core/index.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * Issue 2's end-to-end story on real parts: the core logs in to the HQ emulator over
 * loopback HTTP, restores, saves the three generic forms (register a household, update a
 * case, close a case), sends them, and a fresh device restoring afterwards sees the change.
 */

let hq: StartedEmulator;
const sessions: Session[] = [];

beforeEach(async () => {
  hq = await startEmulator();
});
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await hq.close();
});

/** A new simulated device: its own in-memory IndexedDB. */
function device(): SessionPlatform {
  return { indexedDB: { indexedDB: new IDBFactory(), IDBKeyRange }, pbkdf2Iterations: 10_000 };
}

async function open(username = 'worker1', platform = device()): Promise<Session> {
  const s = await login({ serverUrl: hq.url, domain: 'demo', username, password: 'fieldsim', platform });
  sessions.push(s);
  return s;
}

interface ServerCase {
  case_id: string;
  name: string;
  closed: number;
  properties: string;
  indices: string;
}

function serverCase(id: string): ServerCase | undefined {
  return hq.app.db
    .prepare('SELECT case_id, name, closed, properties, indices FROM cases WHERE case_id = ?')
    .get(id) as ServerCase | undefined;
}

describe('walking skeleton (issue 2)', () => {
  it('login, restore, save register/update/close, send, fresh device sees the change', async () => {
    const a = await open();
    expect(a.info.username).toBe('worker1@demo.commcarehq.org');
    const all = await a.listCases({ status: 'open', limit: 1000 });
    expect(all.total).toBeGreaterThan(10);
    expect(await a.caseTypes()).toEqual(['household', 'member']);
    const household = (await a.listCases({ caseType: 'household', status: 'open' })).cases[0]!;
    const member = (await a.children(household.caseId)).find((c) => !c.closed)!;
    expect(member).toBeDefined();

    // Offline-first: saving applies locally at once, whatever the network does.
    const { caseId: newId, item: reg } = await a.registerCase({
      caseType: 'household',
      caseName: 'Walking Skeleton',
      properties: { village: 'Ekhaya', size: '4' },
    });
    const upd = await a.updateCase({ caseId: household.caseId, properties: { visited: 'yes' } });
    const cls = await a.closeCase({ caseId: member.caseId, properties: { close_reason: 'moved' } });
    expect((await a.getCase(newId))?.properties.village).toBe('Ekhaya');
    expect((await a.getCase(household.caseId))?.properties.visited).toBe('yes');
    expect((await a.getCase(member.caseId))?.closed).toBe(true);

    const report = await a.sendOutbox();
    expect(report.remaining).toBe(0);
    const items = await a.listOutbox();
    expect(items.map((i) => [i.instanceId, i.state])).toEqual([
      [reg.instanceId, 'sent'],
      [upd.instanceId, 'sent'],
      [cls.instanceId, 'sent'],
    ]);

    // The emulator holds the forms, in order, and the case changes.
    const forms = hq.app.db
      .prepare("SELECT form_id FROM forms WHERE domain = 'demo' AND state = 'normal' ORDER BY seq")
      .all() as { form_id: string }[];
    expect(forms.map((f) => f.form_id).slice(-3)).toEqual([reg.instanceId, upd.instanceId, cls.instanceId]);
    expect(serverCase(newId)).toMatchObject({ name: 'Walking Skeleton', closed: 0 });
    expect(JSON.parse(serverCase(household.caseId)!.properties)).toMatchObject({ visited: 'yes' });
    expect(serverCase(member.caseId)?.closed).toBe(1);

    // A fresh device (new IndexedDB) restores and sees the new state.
    const b = await open('worker1');
    expect((await b.getCase(newId))?.caseName).toBe('Walking Skeleton');
    expect((await b.getCase(newId))?.properties.size).toBe('4');
    expect((await b.getCase(household.caseId))?.properties.visited).toBe('yes');
    // A closed child case is purged from the phone (PROTOCOL.md 5.4 Test_Reverse_Index).
    expect(await b.getCase(member.caseId)).toBeUndefined();
    expect((await b.listCases({ status: 'open', limit: 1000 })).total).toBe(all.total);
  });

  it('sync-and-send: incremental sync after sending brings another worker-independent change back', async () => {
    const a = await open();
    const dev = device();
    const a2 = await open('worker1', dev);
    const { caseId } = await a.registerCase({ caseType: 'household', caseName: 'From device A' });
    await a.sendOutbox();
    const hashBefore = await a2.caseStateHash();
    const r = await a2.syncAndSend();
    expect(r.restore).toMatchObject({ mode: 'incremental' });
    expect(await a2.caseStateHash()).not.toBe(hashBefore);
    expect((await a2.getCase(caseId))?.caseName).toBe('From device A');
    // Device A's own sync does not break: its state hash matches what the server tracked.
    const ra = await a.syncAndSend();
    expect(ra.restore?.mode).toBe('incremental');
  });

  it('a wrong password is refused by SSO', async () => {
    await expect(
      login({
        serverUrl: hq.url,
        domain: 'demo',
        username: 'worker1',
        password: 'wrong',
        platform: device(),
      }),
    ).rejects.toMatchObject({ code: 'auth-invalid' });
  });

  it('attachments travel as extra multipart parts named as the XML refers to them', async () => {
    const a = await open();
    const photo = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0, 255]);
    const item = await a.saveForm(
      {
        xmlns: 'http://fieldsim.org/forms/test/photo',
        name: 'Photo',
        children: [{ name: 'photo', value: 'household-1.jpg' }],
      },
      { attachments: [{ name: 'household-1.jpg', blob: new Blob([photo], { type: 'image/jpeg' }) }] },
    );
    expect((await a.sendOutbox()).remaining).toBe(0);
    const row = hq.app.db
      .prepare('SELECT name, content_type, data FROM form_attachments WHERE form_id = ?')
      .get(item.instanceId) as { name: string; content_type: string; data: Buffer } | undefined;
    expect(row?.name).toBe('household-1.jpg');
    expect(row?.content_type).toBe('image/jpeg');
    expect(new Uint8Array(row!.data)).toEqual(photo);
  });
});
