import { IDBDatabase as FDBDatabase } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/core/http/backoff.ts';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import { Outbox, type OutboxOptions, type OutboxSender } from '../../../src/core/outbox/outbox.ts';
import { createInProcessLock } from '../../../src/core/platform.ts';
import { readForm } from '../../../src/core/protocol/submission/read-form.ts';
import type { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { fakeFetch, openRosa } from '../http/fake-fetch.ts';
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

function setup(sender: OutboxSender | null, extra: Partial<OutboxOptions> = {}) {
  const db = freshDb();
  open.push(db);
  const cases = metaApplier(db);
  const outbox = new Outbox({ db, cases, lock: createInProcessLock(), sender, random: () => 0.5, ...extra });
  return { db, cases, outbox };
}

describe('save: compose + apply + enqueue in one transaction', () => {
  it('applies the blocks and queues the form with an ordering number', async () => {
    const { outbox, cases } = setup(null);
    const a = await outbox.enqueue(form('c-a'));
    const b = await outbox.enqueue(form('c-b'));
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(a).toMatchObject({ state: 'queued', attempts: 0, caseIds: ['c-a'], formName: 'F' });
    expect(await cases.applied()).toEqual(['c-a', 'c-b']);
    expect((await outbox.list()).map((i) => i.instanceId)).toEqual([a.instanceId, b.instanceId]);
  });

  it('saving the same instanceID twice is refused, and nothing of the second save is kept', async () => {
    const { outbox, cases } = setup(null);
    const f = form('c-dup');
    await outbox.enqueue(f);
    const again = { ...f, caseBlocks: [{ caseId: 'c-other', actions: [] }] };
    await expect(outbox.enqueue(again)).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(await cases.applied()).toEqual(['c-dup']);
    expect(await outbox.list()).toHaveLength(1);
  });

  it('a block that fails to apply leaves neither the case change nor the form', async () => {
    const { outbox, cases } = setup(null);
    await expect(outbox.enqueue(form('bad-1'))).rejects.toThrow('invalid block bad-1');
    expect(await cases.applied()).toEqual([]);
    expect(await outbox.list()).toEqual([]);
  });

  it('refuses a form over the size limit before writing anything', async () => {
    const { outbox } = setup(null, { limits: { xmlBytes: 1000, attachmentBytes: 4 } });
    await expect(outbox.enqueue(form('c', 'x'.repeat(400)))).rejects.toMatchObject({
      code: 'submission-too-large',
    });
    await expect(
      outbox.enqueue(form('c2'), [{ name: 'p.jpg', blob: new Blob([new Uint8Array(5)]) }]),
    ).rejects.toMatchObject({ code: 'submission-too-large', message: expect.stringContaining('p.jpg') });
    expect(await outbox.list()).toEqual([]);
  });

  it('uses strict durability for outbox writes', async () => {
    const seen: { stores: string[]; durability: string; mode: string }[] = [];
    const orig = FDBDatabase.prototype.transaction;
    FDBDatabase.prototype.transaction = function (
      this: InstanceType<typeof FDBDatabase>,
      ...args: Parameters<typeof orig>
    ) {
      const tx = orig.apply(this, args);
      seen.push({ stores: [...tx.objectStoreNames], durability: tx.durability, mode: tx.mode });
      return tx;
    };
    try {
      const { outbox, db } = setup(null);
      await outbox.enqueue(form());
      await db.meta.put({ key: 'x', value: 1 });
    } finally {
      FDBDatabase.prototype.transaction = orig;
    }
    const outboxWrites = seen.filter((s) => s.mode === 'readwrite' && s.stores.includes('outbox'));
    expect(outboxWrites.length).toBeGreaterThan(0);
    expect(outboxWrites.every((s) => s.durability === 'strict')).toBe(true);
    expect(
      seen
        .filter((s) => !s.stores.includes('outbox') && !s.stores.includes('outboxBlobs'))
        .every((s) => s.durability !== 'strict'),
    ).toBe(true);
  });
});

describe('send loop outcomes (issue 4)', () => {
  it('sends in order; 201 marks sent and keeps the record', async () => {
    const sender = scriptedSender(() => ACCEPT);
    const { outbox } = setup(null);
    const items = [];
    for (let i = 0; i < 5; i++) items.push(await outbox.enqueue(form()));
    outbox.setSender(sender);
    const report = await outbox.send();
    expect(report).toEqual({ sent: 5, quarantined: 0, remaining: 0 });
    expect(sender.sent.map((r) => instanceIdOf(r.xml))).toEqual(items.map((i) => i.instanceId));
    const listed = await outbox.list();
    expect(listed.every((i) => i.state === 'sent' && i.attempts === 1 && i.sentAt !== undefined)).toBe(true);
    expect(await outbox.getXml(items[0]!.instanceId)).toBeDefined();
  });

  it('422 / 201 submit_error / 413 / 4xx quarantine with the reason and the run goes on', async () => {
    const outcomes = [
      { status: 'rejected', reason: 'processing-failure', httpStatus: 422, message: 'InvalidCaseIndex: x' },
      { status: 'rejected', reason: 'too-large', httpStatus: 413, message: 'Form exceeds 10MB size limit' },
      ACCEPT,
    ] as const;
    const sender = scriptedSender((_r, n) => outcomes[n - 1] ?? ACCEPT);
    const { outbox } = setup(null);
    for (let i = 0; i < 3; i++) await outbox.enqueue(form());
    outbox.setSender(sender);
    expect(await outbox.send()).toEqual({ sent: 1, quarantined: 2, remaining: 0 });
    const l = await outbox.list();
    expect(l.map((i) => [i.state, i.quarantineReason, i.serverMessage])).toEqual([
      ['quarantined', 'processing-failure', 'InvalidCaseIndex: x'],
      ['quarantined', 'too-large', 'Form exceeds 10MB size limit'],
      ['sent', undefined, undefined],
    ]);
  });

  it('a retryable failure stops the run, keeps the form first in line, backs off; later forms wait', async () => {
    const clock = manualClock();
    let fail = true;
    const sender = scriptedSender(() =>
      fail ? { status: 'retry', code: 'server-error', httpStatus: 500, message: 'HTTP 500' } : ACCEPT,
    );
    const { outbox } = setup(null, { clock });
    const a = await outbox.enqueue(form());
    const b = await outbox.enqueue(form());
    outbox.setSender(sender);
    const r1 = await outbox.send();
    expect(r1).toEqual({
      sent: 0,
      quarantined: 0,
      remaining: 2,
      stoppedBy: { code: 'server-error', message: 'HTTP 500' },
    });
    expect(sender.sent).toHaveLength(1);
    expect(outbox.nextAttemptAt).toBe(clock.now() + 750); // 1 s base, equal jitter at random 0.5
    expect(await outbox.onTimer()).toBeNull(); // inside the backoff window
    expect(sender.sent).toHaveLength(1);
    fail = false;
    await clock.advance(1000);
    const r2 = await outbox.onTimer();
    expect(r2).toEqual({ sent: 2, quarantined: 0, remaining: 0 });
    expect(sender.sent.map((r) => instanceIdOf(r.xml))).toEqual([a.instanceId, a.instanceId, b.instanceId]);
    // The resend carries the very same bytes.
    expect(sender.sent[1]!.xml).toBe(sender.sent[0]!.xml);
    expect((await outbox.list())[0]).toMatchObject({ attempts: 2, state: 'sent' });
  });

  it('honours Retry-After and the online trigger skips the wait', async () => {
    const clock = manualClock();
    let n = 0;
    const sender = scriptedSender(() =>
      ++n === 1
        ? { status: 'retry', code: 'rate-limited', httpStatus: 429, retryAfterMs: 30_000, message: '429' }
        : ACCEPT,
    );
    const { outbox } = setup(null, { clock });
    await outbox.enqueue(form());
    outbox.setSender(sender);
    await outbox.send();
    expect(outbox.nextAttemptAt).toBe(clock.now() + 30_000);
    expect(await outbox.onOnline()).toEqual({ sent: 1, quarantined: 0, remaining: 0 });
  });

  it('autoRetry schedules the next attempt on the injected clock', async () => {
    const clock = manualClock();
    let n = 0;
    const sender = scriptedSender(() =>
      ++n === 1 ? { status: 'retry', code: 'network-error', message: 'reset' } : ACCEPT,
    );
    const { outbox } = setup(null, { clock, autoRetry: true });
    await outbox.enqueue(form());
    outbox.setSender(sender);
    await outbox.send();
    expect((await outbox.counts()).queued).toBe(1);
    await clock.advance(2_000);
    await new Promise((r) => setTimeout(r, 50));
    expect((await outbox.counts()).sent).toBe(1);
    outbox.close();
  });

  it('401/406 pause the queue until resume; nothing is dropped', async () => {
    let auth = true;
    const sender = scriptedSender(() =>
      auth
        ? { status: 'auth', code: 'user-deactivated', httpStatus: 406, message: 'This user is deactivated' }
        : ACCEPT,
    );
    const { outbox } = setup(null);
    await outbox.enqueue(form());
    await outbox.enqueue(form());
    outbox.setSender(sender);
    expect((await outbox.send()).stoppedBy).toEqual({
      code: 'user-deactivated',
      message: 'This user is deactivated',
    });
    expect(outbox.paused?.code).toBe('user-deactivated');
    expect(await outbox.trigger('manual')).toBeNull();
    expect(sender.sent).toHaveLength(1);
    auth = false;
    outbox.resume();
    expect(await outbox.send()).toEqual({ sent: 2, quarantined: 0, remaining: 0 });
  });

  it('offline: a run stops before the network and the forms stay queued', async () => {
    const sender = scriptedSender(() => ACCEPT);
    const { outbox } = setup(sender, { isOnline: () => false });
    await outbox.enqueue(form());
    await new Promise((r) => setTimeout(r, 20));
    expect((await outbox.send()).stoppedBy?.code).toBe('network-offline');
    expect(sender.sent).toHaveLength(0);
  });

  it('quarantines at send time a stored form over the (lowered) limit', async () => {
    const { db, outbox } = setup(null);
    await outbox.enqueue(form());
    const sender = scriptedSender(() => ACCEPT);
    const strict = new Outbox({
      db,
      cases: metaApplier(db),
      lock: createInProcessLock(),
      sender,
      limits: { xmlBytes: 10, attachmentBytes: 10 },
    });
    expect(await strict.send()).toMatchObject({ sent: 0, quarantined: 1 });
    expect((await strict.list())[0]?.quarantineReason).toBe('too-large');
    expect(sender.sent).toHaveLength(0);
  });

  it('sends over HqClient: multipart, sync token header, 201 duplicate counts as sent', async () => {
    const f = fakeFetch(() => new Response(openRosa('submit_success', '   √   '), { status: 201 }));
    const client = new HqClient({
      serverUrl: 'http://hq',
      domain: 'demo',
      username: 'w',
      password: 'p',
      deviceId: 'd',
      fetch: f,
    });
    const { outbox } = setup(null, { getSyncToken: async () => 'tok-9' });
    const item = await outbox.enqueue(form(), [
      { name: 'photo.jpg', blob: new Blob(['jpeg'], { type: 'image/jpeg' }) },
    ]);
    outbox.setSender(client);
    expect(await outbox.send()).toEqual({ sent: 1, quarantined: 0, remaining: 0 });
    const body = f.calls[0]!.body as FormData;
    expect(instanceIdOf(await (body.get('xml_submission_file') as File).text())).toBe(item.instanceId);
    expect(await (body.get('photo.jpg') as File).text()).toBe('jpeg');
    expect(f.calls[0]!.headers.get('x-commcarehq-lastsynctoken')).toBe('tok-9');
  });
});

describe('restart recovery and one sender', () => {
  it('a form left `sending` by a dead process is resent with the same bytes on start', async () => {
    const { db, outbox } = setup(null);
    const item = await outbox.enqueue(form());
    // The "dead" sender: marks the form sending, then never answers.
    outbox.setSender({ submit: () => new Promise(() => {}) });
    void outbox.send();
    await new Promise((r) => setTimeout(r, 50));
    expect((await outbox.list())[0]?.state).toBe('sending');
    const firstXml = await outbox.getXml(item.instanceId);
    // A new process: new Outbox over the same database, a fresh lock (the old holder is gone).
    const sender = scriptedSender(() => ACCEPT);
    const revived = new Outbox({ db, cases: metaApplier(db), lock: createInProcessLock(), sender });
    expect(await revived.start()).toEqual({ sent: 1, quarantined: 0, remaining: 0 });
    expect(sender.sent[0]!.xml).toBe(firstXml);
    expect((await revived.list())[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('two outboxes sharing a lock never send a form twice', async () => {
    const db = freshDb();
    open.push(db);
    const lock = createInProcessLock();
    const sent: string[] = [];
    const slow = {
      submit: async (r: { xml: string }) => {
        sent.push(instanceIdOf(r.xml));
        await new Promise((x) => setTimeout(x, 5));
        return ACCEPT;
      },
    };
    const a = new Outbox({ db, cases: metaApplier(db), lock, sender: null });
    const b = new Outbox({ db, cases: metaApplier(db), lock, sender: null });
    for (let i = 0; i < 10; i++) await a.enqueue(form());
    a.setSender(slow);
    b.setSender(slow);
    await Promise.all([a.send(), b.send(), a.send(), b.send()]);
    expect(sent).toHaveLength(10);
    expect(new Set(sent).size).toBe(10);
  });
});

describe('user actions, drafts, export/import, prune', () => {
  it('requeue a quarantined form, quarantine a queued one by hand, view XML', async () => {
    const { outbox } = setup(null);
    const a = await outbox.enqueue(form());
    const b = await outbox.enqueue(form());
    await outbox.quarantine(a.instanceId, 'wrong household');
    let l = await outbox.list();
    expect(l[0]).toMatchObject({
      state: 'quarantined',
      quarantineReason: 'manual',
      serverMessage: 'wrong household',
    });
    await expect(outbox.requeue(b.instanceId)).rejects.toMatchObject({ code: 'invalid-argument' });
    await outbox.requeue(a.instanceId);
    l = await outbox.list();
    expect(l[0]).toMatchObject({ state: 'queued' });
    expect(l[0]?.quarantineReason).toBeUndefined();
    expect(readForm((await outbox.getXml(b.instanceId))!).meta?.instanceID).toBe(b.instanceId);
  });

  it('drafts are kept, never sent, and completing one queues it', async () => {
    const sender = scriptedSender(() => ACCEPT);
    const { outbox } = setup(null);
    const f = form('case-d');
    await outbox.saveDraft(f.instanceId, { xmlns: f.xmlns, name: 'F', children: [], timeStart: 't0' }, [
      { name: 'a.jpg', blob: new Blob(['A']) },
    ]);
    outbox.setSender(sender);
    expect(await outbox.send()).toEqual({ sent: 0, quarantined: 0, remaining: 0 });
    expect((await outbox.getDraft(f.instanceId))?.timeStart).toBe('t0');
    await outbox.enqueue(f, [], { replacesDraft: true });
    await outbox.send();
    expect(sender.sent).toHaveLength(1);
    expect(await sender.sent[0]!.attachments![0]!.blob.text()).toBe('A');
    expect((await outbox.list()).map((i) => i.state)).toEqual(['sent']);
  });

  it('export and import move pending and quarantined forms with attachments, once', async () => {
    const src = setup(null);
    const a = await src.outbox.enqueue(form('case-x'), [
      { name: 'p.png', blob: new Blob([new Uint8Array([0, 255, 7])], { type: 'image/png' }) },
    ]);
    const b = await src.outbox.enqueue(form());
    await src.outbox.quarantine(b.instanceId);
    const file = JSON.parse(JSON.stringify(await src.outbox.exportPending()));
    expect(file.forms).toHaveLength(2);
    const dst = setup(null);
    expect(await dst.outbox.importForms(file, { applyCases: true })).toEqual({
      imported: 2,
      skipped: 0,
      failed: [],
    });
    expect(await dst.outbox.importForms(file)).toEqual({ imported: 0, skipped: 2, failed: [] });
    expect(await dst.cases.applied()).toEqual(['case-x']);
    const l = await dst.outbox.list();
    expect(l.map((i) => [i.instanceId, i.state])).toEqual([
      [a.instanceId, 'queued'],
      [b.instanceId, 'quarantined'],
    ]);
    expect(await dst.outbox.getXml(a.instanceId)).toBe(await src.outbox.getXml(a.instanceId));
    const att = await dst.outbox.getAttachments(a.instanceId);
    expect(new Uint8Array(await att[0]!.blob.arrayBuffer())).toEqual(new Uint8Array([0, 255, 7]));
    expect(att[0]!.blob.type).toBe('image/png');
  });

  it('prune drops payloads of old sent forms only, never the record', async () => {
    const clock = manualClock();
    const { outbox } = setup(
      scriptedSender(() => ACCEPT),
      { clock },
    );
    const a = await outbox.enqueue(form());
    await outbox.send();
    outbox.setSender(null);
    const b = await outbox.enqueue(form());
    await clock.advance(10_000);
    expect(await outbox.prune(clock.now())).toBe(1);
    expect(await outbox.getXml(a.instanceId)).toBeUndefined();
    expect(await outbox.getXml(b.instanceId)).toBeDefined();
    expect((await outbox.list()).map((i) => i.state)).toEqual(['sent', 'queued']);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter, capped; Retry-After wins', () => {
    const p = { baseMs: 1000, maxMs: 60_000 };
    expect(backoffDelay(1, p, () => 0)).toBe(500);
    expect(backoffDelay(1, p, () => 1)).toBe(1000);
    expect(backoffDelay(4, p, () => 1)).toBe(8000);
    expect(backoffDelay(30, p, () => 1)).toBe(60_000);
    expect(backoffDelay(30, p, () => 0)).toBe(30_000);
    expect(backoffDelay(3, p, () => 0.5, 12_000)).toBe(12_000);
  });
});

describe('OpenRosa HEAD pre-flight (ODK servers)', () => {
  it('reads X-OpenRosa-Accept-Content-Length and quarantines larger submissions without uploading them', async () => {
    const f = fakeFetch((req) =>
      req.method === 'HEAD'
        ? new Response(null, { status: 204, headers: { 'x-openrosa-accept-content-length': '1200' } })
        : new Response(openRosa('submit_success', 'ok'), { status: 201 }),
    );
    const client = new HqClient({
      serverUrl: 'http://odk',
      domain: 'demo',
      username: 'w',
      password: 'p',
      deviceId: 'd',
      fetch: f,
    });
    expect(await client.preflight()).toBe(1200);
    const { outbox } = setup(null, { preflight: true });
    const small = await outbox.enqueue(form());
    const big = await outbox.enqueue(form('c-big', 'y'.repeat(800)));
    outbox.setSender(client);
    expect(await outbox.send()).toMatchObject({ sent: 1, quarantined: 1 });
    const l = await outbox.list();
    expect(l.find((i) => i.instanceId === big.instanceId)).toMatchObject({
      state: 'quarantined',
      quarantineReason: 'too-large',
    });
    expect(l.find((i) => i.instanceId === small.instanceId)?.state).toBe('sent');
    expect(f.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it("HQ's 405 to HEAD means no advice", async () => {
    const client = new HqClient({
      serverUrl: 'http://hq',
      domain: 'demo',
      username: 'w',
      password: 'p',
      deviceId: 'd',
      fetch: fakeFetch(() => new Response(null, { status: 405 })),
    });
    expect(await client.preflight()).toBeUndefined();
  });
});

describe('triggers during a run', () => {
  it('an online trigger arriving while a run stops for being offline still gets its run', async () => {
    const sender = scriptedSender(() => ACCEPT);
    const db = freshDb();
    open.push(db);
    let second: Promise<unknown> | undefined;
    // The first run finds the device offline; the `online` event fires while it is
    // stopping (before its report is out).
    const isOnline = () => {
      if (second === undefined) {
        second = outbox.onOnline();
        return false;
      }
      return true;
    };
    const outbox: Outbox = new Outbox({
      db,
      cases: metaApplier(db),
      lock: createInProcessLock(),
      sender: null,
      isOnline,
    });
    await outbox.enqueue(form());
    outbox.setSender(sender);
    const first = await outbox.trigger('manual');
    await second;
    expect(first).toMatchObject({ sent: 1, remaining: 0 });
    expect(sender.sent).toHaveLength(1);
    expect((await outbox.list())[0]?.state).toBe('sent');
  });
});

describe('database closed under the app (iOS)', () => {
  it('reopens and retries instead of failing the save', async () => {
    const { db, outbox, cases } = setup(null);
    await outbox.enqueue(form('c-before'));
    db.close();
    const item = await outbox.enqueue(form('c-after'));
    expect(item.state).toBe('queued');
    expect(db.isOpen()).toBe(true);
    expect(await cases.applied()).toEqual(['c-after', 'c-before']);
  });
});
