import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import type { OutboxSender } from '../../../src/core/outbox/outbox.ts';
import { outboxForCaseDb } from '../../../src/core/outbox/outbox-for-case-db.ts';
import { composeForm } from '../../../src/core/protocol/submission/compose-form.ts';
import type { ComposedForm } from '../../../src/core/protocol/submission/form-types.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ACCEPT, freshDb, scriptedSender } from './outbox-fixtures.ts';

/** The outbox with encryption at rest: same behaviour, no form content on disk. */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const cipher = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);

function setup(sender: OutboxSender | null, factory = new IDBFactory(), name?: string) {
  const db =
    name === undefined ? freshDb(factory) : new FieldsimDb(name, { indexedDB: factory, IDBKeyRange });
  db.vault.open(cipher);
  open.push(db);
  const caseDb = new CaseDb(db);
  const outbox = outboxForCaseDb(db, { caseDb, sender });
  return { db, caseDb, outbox };
}

let n = 0;
function secretForm(caseId: string, caseName: string, answer: string): ComposedForm {
  n++;
  return composeForm({
    xmlns: 'http://example.org/visit',
    name: 'Home visit',
    meta: {
      deviceId: 'd',
      timeStart: '2026-01-01T00:00:00.000Z',
      timeEnd: '2026-01-01T00:00:01.000Z',
      username: 'w',
      userId: 'u',
      instanceId: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`,
    },
    children: [
      { name: 'symptoms', value: answer },
      { caseBlock: { caseId, actions: [{ kind: 'create', caseType: 'household', caseName }] } },
    ],
  });
}

async function rawDump(db: FieldsimDb): Promise<Buffer> {
  const parts: Buffer[] = [];
  const push = (v: unknown): void => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v));
    else if (v instanceof ArrayBuffer) parts.push(Buffer.from(new Uint8Array(v)));
    else if (typeof v === 'string') parts.push(Buffer.from(v, 'utf8'), Buffer.from(v, 'utf16le'));
    else if (Array.isArray(v)) for (const x of v) push(x);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) push(x);
  };
  for (const t of db.tables) push(await t.toArray());
  return Buffer.concat(parts);
}

function has(dump: Buffer, s: string): boolean {
  return dump.includes(Buffer.from(s, 'utf8')) || dump.includes(Buffer.from(s, 'utf16le'));
}

describe('encrypted outbox', () => {
  it('saves, lists, sends and exports; form answers, case names, drafts and attachments are sealed', async () => {
    const sender = scriptedSender(() => ACCEPT);
    const { db, caseDb, outbox } = setup(null);
    const f = secretForm('hh-1', 'Grace Mwangi household', 'persistent cough Tembo');
    const item = await outbox.enqueue(f, [{ name: 'photo.jpg', blob: new Blob(['PHOTO-BYTES-SECRET']) }]);
    expect(item).toMatchObject({ formName: 'Home visit', caseIds: ['hh-1'], state: 'queued' });
    await outbox.saveDraft('draft-1', {
      xmlns: 'http://example.org/visit',
      name: 'Draft visit',
      children: [{ name: 'notes', value: 'draft-answer-Kilimanjaro' }],
      timeStart: '2026-01-01T00:00:00.000Z',
    } as never);
    expect((await caseDb.get('hh-1'))?.caseName).toBe('Grace Mwangi household');
    expect((await outbox.list()).map((i) => i.formName)).toEqual(['Home visit', 'Draft visit']);
    expect(await outbox.getXml(f.instanceId)).toBe(f.xml);
    expect(JSON.stringify(await outbox.getDraft('draft-1'))).toContain('draft-answer-Kilimanjaro');

    const dump = await rawDump(db);
    // Attachment names stay in clear: they are part of the blob table's key.
    for (const s of ['Grace Mwangi', 'Tembo', 'Kilimanjaro', 'PHOTO-BYTES-SECRET', 'Home visit'])
      expect(has(dump, s), s).toBe(false);

    const exported = await outbox.exportPending();
    expect(exported.forms.map((x) => x.xml)).toContain(f.xml);
    expect(exported.forms[0]?.attachments[0]?.data).toBe(
      Buffer.from('PHOTO-BYTES-SECRET').toString('base64'),
    );

    outbox.setSender(sender);
    const report = await outbox.send();
    expect(report).toMatchObject({ sent: 1, remaining: 0 });
    expect(sender.sent[0]?.xml).toBe(f.xml);
    const photo = sender.sent[0]?.attachments?.[0]?.blob as Blob;
    expect(Buffer.from(await photo.arrayBuffer()).toString()).toBe('PHOTO-BYTES-SECRET');
    expect((await outbox.list(['sent']))[0]).toMatchObject({
      instanceId: f.instanceId,
      formName: 'Home visit',
    });
    expect(await outbox.prune(Date.now() + 1000)).toBe(1);
    expect(await outbox.getXml(f.instanceId)).toBeUndefined();
    expect((await outbox.list(['sent']))[0]?.formName).toBe('Home visit');

    // Import into another encrypted database, applying the case blocks there.
    const other = setup(null);
    const r = await other.outbox.importForms(exported, { applyCases: true });
    expect(r).toMatchObject({ imported: 2, failed: [] });
    expect((await other.caseDb.get('hh-1'))?.caseName).toBe('Grace Mwangi household');
    expect(has(await rawDump(other.db), 'Grace Mwangi')).toBe(false);
  });

  it('a draft is completed in place; a bad block keeps nothing', async () => {
    const { caseDb, outbox } = setup(null);
    const f = secretForm('hh-2', 'Amani', 'ok');
    await outbox.saveDraft(f.instanceId, {
      xmlns: 'http://example.org/visit',
      name: 'Home visit',
      children: [],
      timeStart: '2026-01-01T00:00:00.000Z',
    } as never);
    await outbox.enqueue(f, [], { replacesDraft: true });
    expect((await outbox.list()).map((i) => [i.instanceId, i.state])).toEqual([[f.instanceId, 'queued']]);
    const bad = secretForm('hh-3', 'x', 'y');
    bad.caseBlocks = [{ caseId: 'missing', actions: [{ kind: 'update', fields: [['a', 'b']] }] }];
    await expect(outbox.enqueue(bad)).rejects.toMatchObject({ code: 'case-not-found' });
    expect(await outbox.list()).toHaveLength(1);
    expect(await caseDb.count()).toBe(1);
  });

  it('saves from two connections at once keep every case and form', async () => {
    const factory = new IDBFactory();
    const a = setup(null, factory, 'shared-enc');
    const b = setup(null, factory, 'shared-enc');
    const saves: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      saves.push(a.outbox.enqueue(secretForm(`a-${i}`, `A ${i}`, 'x')));
      saves.push(b.outbox.enqueue(secretForm(`b-${i}`, `B ${i}`, 'x')));
    }
    await Promise.all(saves);
    const fresh = setup(null, factory, 'shared-enc');
    expect(await fresh.caseDb.count()).toBe(20);
    expect(await fresh.outbox.list()).toHaveLength(20);
  });

  it('locked: saving and listing fail with data-locked', async () => {
    const { db, outbox } = setup(null);
    await outbox.enqueue(secretForm('hh-9', 'Z', 'z'));
    db.vault.lock();
    await expect(outbox.list()).rejects.toMatchObject({ code: 'data-locked' });
    await expect(outbox.enqueue(secretForm('hh-10', 'Z', 'z'))).rejects.toMatchObject({
      code: 'data-locked',
    });
  });
});
