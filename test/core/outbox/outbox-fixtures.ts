import type { Table } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { SubmitOutcome } from '../../../src/core/http/classify-response.ts';
import type { SubmitRequest } from '../../../src/core/http/hq-client.ts';
import type { CaseApplier, OutboxSender } from '../../../src/core/outbox/outbox.ts';
import { installStrictOutboxDurability } from '../../../src/core/outbox/outbox-store.ts';
import type { Clock } from '../../../src/core/platform.ts';
import type { CaseBlock } from '../../../src/core/protocol/casexml/case-types.ts';
import { composeForm } from '../../../src/core/protocol/submission/compose-form.ts';
import type { ComposedForm } from '../../../src/core/protocol/submission/form-types.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';

let dbCounter = 0;

/** A fresh FieldsimDb on its own in-memory IndexedDB (fake-indexeddb). */
export function freshDb(factory = new IDBFactory()): FieldsimDb {
  const db = new FieldsimDb(`test-outbox-${++dbCounter}`, { indexedDB: factory, IDBKeyRange });
  installStrictOutboxDurability(db);
  return db;
}

/**
 * A stand-in for the case database that writes one meta row per case id, so tests can
 * see whether a save's case changes landed in the same transaction. Throws for a block
 * whose case id starts with `bad`, like an invalid block would.
 */
export function metaApplier(db: FieldsimDb): CaseApplier & { applied: () => Promise<string[]> } {
  return {
    tables: () => [db.meta] as unknown as Table[],
    async applyBlocks(blocks: CaseBlock[]) {
      for (const b of blocks) {
        await db.meta.put({ key: `case:${b.caseId}`, value: b.actions.length });
        if (b.caseId.startsWith('bad')) throw new Error(`invalid block ${b.caseId}`);
      }
    },
    async applied() {
      return (await db.meta.where('key').startsWith('case:').primaryKeys()).map((k) => String(k).slice(5));
    },
  };
}

let formCounter = 0;

export function form(caseId = `c${++formCounter}`, extra = ''): ComposedForm {
  const n = ++formCounter;
  return composeForm({
    xmlns: 'http://example.org/f',
    name: 'F',
    meta: {
      deviceId: 'd',
      timeStart: '2026-01-01T00:00:00.000Z',
      timeEnd: '2026-01-01T00:00:01.000Z',
      username: 'w',
      userId: 'u',
      instanceId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    },
    children: [
      { name: 'q', value: `answer ${n}${extra}` },
      { caseBlock: { caseId, actions: [{ kind: 'create', caseType: 't', caseName: `n${n}` }] } },
    ],
  });
}

/** A scripted sender: answers each call from `script` (last entry repeats), records the XML sent. */
export function scriptedSender(
  script: (req: SubmitRequest, call: number) => SubmitOutcome | Promise<SubmitOutcome>,
): OutboxSender & { sent: SubmitRequest[] } {
  const sent: SubmitRequest[] = [];
  return {
    sent,
    async submit(req) {
      sent.push(req);
      return script(req, sent.length);
    },
  };
}

export const ACCEPT: SubmitOutcome = { status: 'accepted', httpStatus: 201, duplicate: false };

export function instanceIdOf(xml: string): string {
  return /<orx:instanceID>([^<]*)<\/orx:instanceID>/.exec(xml)?.[1] ?? '';
}

/** A manual clock: `sleep` resolves when `advance` passes its deadline. */
export function manualClock(start = 1_000_000): Clock & { advance(ms: number): Promise<void> } {
  let now = start;
  const sleepers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        const s = { at: now + ms, resolve };
        sleepers.push(s);
        signal?.addEventListener('abort', () => {
          sleepers.splice(sleepers.indexOf(s), 1);
          reject(signal.reason);
        });
      });
    },
    async advance(ms) {
      now += ms;
      for (const s of [...sleepers]) {
        if (s.at <= now) {
          sleepers.splice(sleepers.indexOf(s), 1);
          s.resolve();
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    },
  };
}
