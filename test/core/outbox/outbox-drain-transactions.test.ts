import type { DBCore, Middleware } from 'dexie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Outbox, type OutboxSender } from '../../../src/core/outbox/outbox.ts';
import { outboxTable } from '../../../src/core/outbox/outbox-store.ts';
import { createInProcessLock } from '../../../src/core/platform.ts';
import type { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import {
  ACCEPT,
  form,
  freshDb,
  instanceIdOf,
  manualClock,
  metaApplier,
  scriptedSender,
} from './outbox-fixtures.ts';

/**
 * The drain's transactions (session 9): Dexie's cost per transaction was the largest share
 * of the QA runner's CPU, and a drained form took six of them. A run now takes one to
 * begin (recover, read, mark the first form) and one per form (its outcome, the next
 * form marked, and at a batch's end the next batch read), with no count at the end.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

/** Counts the transactions on the outbox table alone (the drain's; a save also holds the case tables). */
function countDrainTransactions(db: FieldsimDb): { n: number } {
  const seen = { n: 0 };
  const mw: Middleware<DBCore> = {
    stack: 'dbcore',
    name: 'test-count-transactions',
    create: (down) => ({
      ...down,
      transaction: (stores, mode, options) => {
        if (stores.length === 1 && stores[0] === 'outbox') seen.n++;
        return down.transaction(stores, mode, options);
      },
    }),
  };
  db.use(mw);
  return seen;
}

function setup(forms: number) {
  const db = freshDb();
  open.push(db);
  const counter = countDrainTransactions(db);
  const outbox = new Outbox({
    db,
    cases: metaApplier(db),
    lock: createInProcessLock(),
    sender: null,
    random: () => 0.5,
    clock: manualClock(),
  });
  return {
    db,
    outbox,
    counter,
    async queue(): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < forms; i++) ids.push((await outbox.enqueue(form())).instanceId);
      return ids;
    },
  };
}

describe('drain transactions', () => {
  it('a run takes one transaction to begin and one per form, across batches, with no count at the end', async () => {
    // 120 forms: three batches of the drain (50 rows each), so two batch ends are crossed.
    const { outbox, counter, queue } = setup(120);
    const ids = await queue();
    const sender = scriptedSender(() => ACCEPT);
    outbox.setSender(sender);
    counter.n = 0;
    expect(await outbox.send()).toEqual({ sent: 120, quarantined: 0, remaining: 0 });
    expect(counter.n).toBe(1 + 120);
    expect(sender.sent.map((r) => instanceIdOf(r.xml))).toEqual(ids);
    const rows = await outbox.list();
    expect(rows.every((r) => r.state === 'sent' && r.attempts === 1)).toBe(true);
  });

  it('a form left `sending` goes back in line in the first transaction and is sent first, once', async () => {
    const { db, outbox, counter, queue } = setup(3);
    const ids = await queue();
    // A dead sender's mark on the second form (the first still queued ahead of it).
    await outboxTable(db)
      .where('instanceId')
      .equals(ids[1] as string)
      .modify((r) => {
        r.state = 'sending';
        r.attempts = 1;
      });
    const sender = scriptedSender(() => ACCEPT);
    outbox.setSender(sender);
    counter.n = 0;
    expect(await outbox.send()).toEqual({ sent: 3, quarantined: 0, remaining: 0 });
    expect(counter.n).toBe(1 + 3);
    expect(sender.sent.map((r) => instanceIdOf(r.xml))).toEqual(ids);
    expect((await outbox.list()).map((r) => r.attempts)).toEqual([1, 2, 1]);
  });

  it('a save during a send is sent by the same run, without a second run', async () => {
    const { outbox, counter, queue } = setup(1);
    const [first] = await queue();
    let later: string | undefined;
    const sender: OutboxSender & { sent: string[] } = {
      sent: [],
      async submit(req) {
        this.sent.push(instanceIdOf(req.xml));
        // The worker saves another form while the first is on its way (its trigger finds
        // the run going and asks it to go round again).
        if (later === undefined) later = (await outbox.enqueue(form())).instanceId;
        return ACCEPT;
      },
    };
    outbox.setSender(sender);
    counter.n = 0;
    expect(await outbox.send()).toEqual({ sent: 2, quarantined: 0, remaining: 0 });
    expect(sender.sent).toEqual([first, later]);
    // The first form's outcome commit read the queue after that save: one run, no rerun.
    expect(counter.n).toBe(1 + 2);
  });

  it('a save committed after the run has read the queue for the last time still gets sent', async () => {
    const { outbox, queue } = setup(1);
    await queue();
    const sender = scriptedSender(() => ACCEPT);
    outbox.setSender(sender);
    let saving: Promise<unknown> | undefined;
    // Listeners hear of an outcome after its commit, which was the run's last read of the
    // queue: a save then must not wait for the next trigger.
    outbox.onChange(() => {
      saving ??= outbox.enqueue(form());
    });
    await outbox.send();
    await saving;
    await vi.waitFor(async () => expect((await outbox.counts()).sent).toBe(2), { timeout: 2000 });
    expect(sender.sent).toHaveLength(2);
  });

  it('counts() reads the five states in one transaction', async () => {
    const { outbox, counter, queue } = setup(4);
    await queue();
    await outbox.quarantine((await outbox.list())[0]?.instanceId as string);
    counter.n = 0;
    expect(await outbox.counts()).toEqual({ incomplete: 0, queued: 3, sending: 0, sent: 0, quarantined: 1 });
    expect(counter.n).toBe(1);
  });
});
