import { afterEach, describe, expect, it } from 'vitest';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { outboxForCaseDb } from '../../../src/core/outbox/outbox-for-case-db.ts';
import { outboxTable } from '../../../src/core/outbox/outbox-store.ts';
import { createInProcessLock, type LockFn } from '../../../src/core/platform.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import type { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { form, freshDb } from './outbox-fixtures.ts';

/** The one wiring of an outbox over a phone database's CaseDb (session, bench, browser tests). */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const cipher = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);

describe('outboxForCaseDb', () => {
  for (const encrypted of [false, true])
    it(`a save writes its cases into the CaseDb with the form (${encrypted ? 'encrypted' : 'plain'})`, async () => {
      const db = freshDb();
      open.push(db);
      if (encrypted) db.vault.open(cipher);
      const caseDb = new CaseDb(db);
      let locked = 0;
      const inner = createInProcessLock();
      const lock: LockFn = (name, fn) => {
        locked++;
        return inner(name, fn);
      };
      const outbox = outboxForCaseDb(db, { caseDb, lock, sender: null });
      const item = await outbox.enqueue(form('case-1'));
      expect(item.state).toBe('queued');
      expect((await caseDb.get('case-1'))?.caseType).toBe('t');
      // Another CaseDb on the same database sees it: the save went to the database.
      expect(await new CaseDb(db).count()).toBe(1);
      const [row] = await outboxTable(db).toArray();
      expect(row?.enc instanceof Uint8Array).toBe(encrypted);
      expect(row?.xml === '').toBe(encrypted);
      // Sending runs under the lock given.
      expect(locked).toBe(0);
      await outbox.start();
      expect(locked).toBeGreaterThan(0);
      outbox.close();
    });

  it('a block error saves neither the form nor any case; the default CaseDb and lock work', async () => {
    const db = freshDb();
    open.push(db);
    db.vault.open(cipher);
    const outbox = outboxForCaseDb(db);
    const bad = form('case-2');
    // An update of a case that does not exist is a block error.
    const block = bad.caseBlocks[0];
    if (block !== undefined) block.actions = [{ kind: 'update', fields: [['x', '1']] }];
    await expect(outbox.enqueue(bad)).rejects.toMatchObject({ code: 'case-not-found' });
    expect(await outboxTable(db).count()).toBe(0);
    expect(await new CaseDb(db).count()).toBe(0);
    await outbox.enqueue(form('case-3'));
    expect(await new CaseDb(db).count()).toBe(1);
    outbox.close();
  });
});
