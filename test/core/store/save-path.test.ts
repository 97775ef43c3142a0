import Dexie from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNTH_USER, streamOfChunks, synthId, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { installStrictOutboxDurability } from '../../../src/core/outbox/outbox-store.ts';
import { registerCaseForm, updateCaseForm } from '../../../src/core/protocol/submission/generic-forms.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { Session } from '../../../src/core/sync/session.ts';
import { type RequestEvent as Event, requestSpy as spy } from '../../contract/request-spy.ts';

/**
 * The form-save path (issue 4, p50 <= 5 ms in Chromium): what one save asks of IndexedDB.
 * In Chromium every request is a round trip to the storage process, so the save issues
 * its reads together (queue row, state row, the guessed pages), then its writes together,
 * and never rebuilds the catalog it just updated. A spy middleware records each request
 * when it is issued and when it completes (fake-indexeddb completes them asynchronously,
 * in order, like Chromium).
 */

const open: { session: Session; db: FieldsimDb }[] = [];
afterEach(() => {
  for (const { session, db } of open.splice(0)) {
    session.close();
    db.close();
  }
});

async function setup(
  cases: number,
): Promise<{ session: Session; db: FieldsimDb; log: Event[]; indexedDB: IDBFactory }> {
  const deps = { indexedDB: new IDBFactory(), IDBKeyRange };
  const db = new FieldsimDb('save-path', deps);
  installStrictOutboxDurability(db);
  const log: Event[] = [];
  db.use(spy(log));
  await db.open();
  await ingestRestore(db, streamOfChunks(synthRestoreChunks(cases).chunks), { mode: 'full' });
  const session = new Session(
    db,
    { indexedDB: deps },
    {},
    { serverUrl: 'http://hq.test', domain: 'demo', username: 'w@demo', userId: SYNTH_USER, deviceId: 'd' },
  );
  open.push({ session, db });
  return { session, db, log, indexedDB: deps.indexedDB };
}

function ops(log: Event[], at: Event['at']): string[] {
  return log.filter((e) => e.at === at).map((e) => e.op);
}

function pos(log: Event[], at: Event['at'], op: string): number {
  const i = log.findIndex((e) => e.at === at && e.op === op);
  if (i < 0) throw new Error(`no ${at} of ${op} in ${JSON.stringify(log)}`);
  return i;
}

describe('form save requests', () => {
  it('register and update: one read step, one write step, one transaction, no catalog rebuild', async () => {
    const { session, log } = await setup(300);
    const households = 30;
    for (let i = 0; i < 24; i++) {
      log.length = 0;
      const draft =
        i % 2 === 0
          ? registerCaseForm({
              caseId: `new-${i}`,
              caseType: 'member',
              caseName: `New ${i}`,
              parent: { caseId: synthId(i % households), caseType: 'household' },
            })
          : updateCaseForm({ caseId: synthId((i * 7) % households), properties: { visits: String(i) } });
      await session.saveForm(draft);
      const issued = ops(log, 'issue');
      // Exactly one read-write transaction, and none of the catalog's summary reads.
      expect(issued.filter((o) => o.startsWith('tx('))).toHaveLength(1);
      expect(issued.filter((o) => o.startsWith('caseSums.') && o !== 'caseSums.put')).toEqual([]);
      // Reads: the state row and at most one batch of pages (none when a new case opens a
      // fresh page); writes: queue row, pages, summaries, state.
      expect(issued.filter((o) => o === 'casePages.getMany').length).toBeLessThanOrEqual(1);
      expect(issued.filter((o) => !o.startsWith('tx(')).sort()).toEqual(
        [
          'outbox.add',
          'meta.get',
          ...(issued.includes('casePages.getMany') ? ['casePages.getMany'] : []),
          'casePages.put',
          'caseSums.put',
          'meta.put',
        ].sort(),
      );
      // Pipelined: the page read goes out before the state read is back, and the last
      // write before the first write is back.
      if (issued.includes('casePages.getMany'))
        expect(pos(log, 'issue', 'casePages.getMany')).toBeLessThan(pos(log, 'done', 'meta.get'));
      expect(pos(log, 'issue', 'meta.get')).toBeLessThan(pos(log, 'done', 'outbox.add'));
      expect(pos(log, 'issue', 'meta.put')).toBeLessThan(pos(log, 'done', 'casePages.put'));
    }
    // Every register but the ones that opened a fresh page needed the part-filled tail page.
    const cdb = new CaseDb(session.db);
    expect(await cdb.count()).toBe(300 + 12);
    expect((await cdb.get(synthId(7 % households)))?.properties.visits).toBeDefined();
    expect((await cdb.children(synthId(0))).map((c) => c.caseId)).toContain('new-0');
  });

  it("skips Dexie's liveQuery bookkeeping: a commit announces no mutated ranges", async () => {
    const { session } = await setup(20);
    const seen: unknown[] = [];
    const listener = (parts: unknown): void => {
      seen.push(parts);
    };
    Dexie.on('storagemutated', listener);
    try {
      await session.registerCase({ caseId: 'quiet', caseType: 'member', caseName: 'Quiet' });
      await session.updateCase({ caseId: 'quiet', properties: { a: 'b' } });
    } finally {
      Dexie.on('storagemutated').unsubscribe(listener);
    }
    expect(seen).toEqual([]);
    expect((await new CaseDb(session.db).get('quiet'))?.properties).toEqual({ a: 'b' });
  });

  it('another connection writing in between costs a second read, not a wrong page', async () => {
    const { session, db, log, indexedDB } = await setup(40);
    const other = new FieldsimDb(db.name, { indexedDB, IDBKeyRange });
    const otherCases = new CaseDb(other);
    for (let i = 0; i < 6; i++) {
      await otherCases.applyBlocks([
        {
          caseId: `other-${i}`,
          userId: SYNTH_USER,
          actions: [{ kind: 'create', caseType: 'member', caseName: `Other ${i}`, ownerId: SYNTH_USER }],
        },
      ]);
      log.length = 0;
      await session.registerCase({ caseId: `mine-${i}`, caseType: 'member', caseName: `Mine ${i}` });
      // This connection's catalog is stale: it is rebuilt in the save's transaction, and
      // a page guessed from it (the shared tail page) is read again, not trusted.
      const issued = ops(log, 'issue');
      expect(issued).toContain('caseSums.query');
      const reads = issued.filter((o) => o === 'casePages.getMany').length;
      const guessed = reads > 0 && pos(log, 'issue', 'casePages.getMany') < pos(log, 'done', 'meta.get');
      expect(reads).toBe(guessed ? 2 : 1);
    }
    const ids = new Set(await new CaseDb(db).ids());
    for (let i = 0; i < 6; i++) {
      expect(ids.has(`other-${i}`)).toBe(true);
      expect(ids.has(`mine-${i}`)).toBe(true);
    }
    expect(new Set(await otherCases.ids())).toEqual(ids);
    other.close();
  });
});
