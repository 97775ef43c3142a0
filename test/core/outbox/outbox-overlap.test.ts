import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxSender } from '../../../src/core/outbox/outbox.ts';
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

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

/** The sender is set after the forms are queued (a save with a sender starts a send). */
async function setup(sender: OutboxSender, forms: number) {
  const db = freshDb();
  open.push(db);
  const outbox = new Outbox({
    db,
    cases: metaApplier(db),
    lock: createInProcessLock(),
    sender: null,
    random: () => 0.5,
    clock: manualClock(),
  });
  const ids: string[] = [];
  for (let i = 0; i < forms; i++) ids.push((await outbox.enqueue(form())).instanceId);
  outbox.setSender(sender);
  return { outbox, ids };
}

describe('drain: the outcome commit of form N overlaps the send of form N+1', () => {
  it('sends in order, one at a time, each only after the previous answer', async () => {
    let inFlight = 0;
    let most = 0;
    const sender = scriptedSender(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return ACCEPT;
    });
    const { outbox, ids } = await setup(sender, 120);
    expect(await outbox.send()).toEqual({ sent: 120, quarantined: 0, remaining: 0 });
    expect(most).toBe(1);
    expect(sender.sent.map((r) => instanceIdOf(r.xml))).toEqual(ids);
    // Every outcome is committed when send() returns.
    expect((await outbox.list()).every((r) => r.state === 'sent')).toBe(true);
  });

  it('tells listeners after the last outcome is committed', async () => {
    const { outbox } = await setup(
      scriptedSender(() => ACCEPT),
      3,
    );
    const seen: number[] = [];
    outbox.onChange(() => {
      void outbox.counts().then((c) => seen.push(c.sent));
    });
    await outbox.send();
    await new Promise((r) => setTimeout(r, 20));
    expect(Math.max(...seen)).toBe(3);
  });

  it('stops at a retryable failure with the forms behind it untouched, the earlier outcomes kept', async () => {
    const sender = scriptedSender((_, call) =>
      call === 3 ? { status: 'retry', code: 'server-error', httpStatus: 500, message: 'HTTP 500' } : ACCEPT,
    );
    const { outbox } = await setup(sender, 5);
    const report = await outbox.send();
    expect(report).toMatchObject({ sent: 2, remaining: 3, stoppedBy: { code: 'server-error' } });
    expect((await outbox.list()).map((r) => r.state)).toEqual(['sent', 'sent', 'queued', 'queued', 'queued']);
    expect(sender.sent).toHaveLength(3);
  });
});
