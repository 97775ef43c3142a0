import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { streamOfChunks, synthCaseXml, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { XmlError } from '../../../src/core/errors/xml-error.ts';
import type { RestoreParserFn } from '../../../src/core/platform.ts';
import type { CaseBlock } from '../../../src/core/protocol/casexml/case-types.ts';
import { parseRestore } from '../../../src/core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../../../src/core/protocol/restore/restore-types.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import {
  decodeWireBatch,
  fromWireError,
  RestorePipeError,
  toWireError,
  type WireBatch,
  WireBatchBuilder,
  wireBatches,
} from '../../../src/core/store/restore-pipe-wire.ts';

/**
 * The wire format between the browser's parse worker and restore worker (issue 15), run in
 * one thread: a full restore whose events went through `wireBatches` and
 * `decodeWireBatch` (first blocks applied by the parse side, later ones raw) stores
 * exactly what the plain parser's ingest stores; errors keep their type and code.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function connect(name: string, restoreParser?: RestoreParserFn): FieldsimDb {
  const db = new FieldsimDb(name, {
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    ...(restoreParser === undefined ? {} : { restoreParser }),
  });
  open.push(db);
  return db;
}

/** The parse worker and the writer's port reader, without the threads (a copy on the way, as postMessage). */
const throughWire: RestoreParserFn = async function* (body, opts) {
  for await (const b of wireBatches(
    body,
    opts.batchSize === undefined ? {} : { batchSize: opts.batchSize },
  )) {
    opts.onBytes?.(b.bytes);
    yield decodeWireBatch(structuredClone(b));
  }
};

/** The synthetic payload, then some of its cases again, renamed (later blocks of a case). */
function withUpdates(n: number): ReadableStream<Uint8Array> {
  const { chunks } = synthRestoreChunks(n);
  const last = new TextDecoder().decode(chunks.pop());
  const again = Array.from({ length: 40 }, (_, i) =>
    synthCaseXml(i * 7, Math.round(n / 10)).replace(/<case_name>[^<]*</, `<case_name>Renamed ${i}<`),
  ).join('');
  chunks.push(new TextEncoder().encode(last.replace('</OpenRosaResponse>', `${again}</OpenRosaResponse>`)));
  return streamOfChunks(chunks);
}

async function everything(db: FieldsimDb): Promise<unknown[]> {
  const { cases } = await new CaseDb(db).query({ limit: 1_000_000 });
  return cases.map((c) => ({ ...c })).sort((a, b) => a.caseId.localeCompare(b.caseId));
}

describe('restore pipe wire format', () => {
  it('a full restore through the wire stores what the plain parser stores', async () => {
    const plain = connect('plain');
    const piped = connect('piped', throughWire);
    const a = await ingestRestore(plain, withUpdates(1500), { mode: 'full', batchSize: 100 });
    const b = await ingestRestore(piped, withUpdates(1500), { mode: 'full', batchSize: 100, inFlight: 3 });
    expect(b).toEqual(a);
    const rows = await everything(piped);
    expect(rows).toEqual(await everything(plain));
    expect(rows.filter((c) => (c as { caseName: string }).caseName.startsWith('Renamed'))).toHaveLength(40);
  });

  it('applies first blocks on the parse side and sends later blocks of a case raw, in order', async () => {
    const kinds: string[] = [];
    let events = 0;
    const sizes: number[] = [];
    for await (const b of wireBatches(withUpdates(300), { batchSize: 64 })) {
      sizes.push(b.order.length);
      for (const ev of decodeWireBatch(b)) {
        events++;
        if (ev.kind === 'case' || ev.kind === 'case-applied') kinds.push(ev.kind);
      }
    }
    let plainEvents = 0;
    for await (const batch of parseRestore(withUpdates(300))) plainEvents += batch.length;
    expect(events).toBe(plainEvents);
    // Gathered up to the batch size asked for (the last one holds what is left).
    expect(sizes.slice(0, -1).every((n) => n >= 64)).toBe(true);
    expect(sizes.length).toBeGreaterThan(3);
    expect(kinds.filter((k) => k === 'case-applied')).toHaveLength(300);
    // The 40 renamed cases come after every first block: raw.
    expect(kinds.slice(300)).toEqual(Array.from({ length: 40 }, () => 'case'));
  });

  it('a damaged batch is a typed RestorePipeError', () => {
    const ok: WireBatch = {
      order: 'a',
      blocks: '[]',
      records: '{}',
      summaries: 'x\u0001t\u0001n\u0001o\u00010\u0001d\u0001parent\u0002h\u0002y\u0002child',
      other: [],
      bytes: 1,
    };
    expect(decodeWireBatch(ok)).toEqual([
      {
        kind: 'case-applied',
        applied: {
          json: '{}',
          summary: [
            'x',
            't',
            'n',
            'o',
            0,
            'd',
            [{ identifier: 'parent', caseType: 'h', caseId: 'y', relationship: 'child' }],
          ],
        },
      },
    ]);
    expect(() => decodeWireBatch({ ...ok, summaries: 'x\u0001t\u0001n\u0001o\u00012\u0001d' })).toThrow(
      RestorePipeError,
    );
    expect(() => decodeWireBatch({ ...ok, summaries: `${ok.summaries}\u0002z` })).toThrow(RestorePipeError);
    expect(() => decodeWireBatch({ ...ok, order: 'aa' })).toThrow(RestorePipeError);
    expect(() => decodeWireBatch({ ...ok, order: '' })).toThrow(RestorePipeError);
    expect(() => decodeWireBatch({ ...ok, summaries: '[' })).toThrow(RestorePipeError);
    expect(() => decodeWireBatch({ ...ok, order: 'o' })).toThrow(RestorePipeError);
  });

  it('a case whose values hold a separator goes raw, and stores the same', async () => {
    const b = new WireBatchBuilder();
    const block: CaseBlock = {
      caseId: 'c1',
      dateModified: '2024-01-01',
      userId: 'u',
      actions: [{ kind: 'create', caseType: 't', caseName: 'odd\u0001name', ownerId: 'o' }],
    } as CaseBlock;
    b.add({ kind: 'case', block });
    b.add({
      kind: 'case',
      block: {
        ...block,
        caseId: 'c2',
        actions: [{ kind: 'create', caseType: 't', caseName: 'ok', ownerId: 'o' }],
      } as CaseBlock,
    });
    const batch = b.take(0);
    expect(batch.order).toBe('ba');
    const evs = decodeWireBatch(batch);
    expect(evs[0]).toMatchObject({ kind: 'case', block: { caseId: 'c1' } });
    expect(evs[1]).toMatchObject({
      kind: 'case-applied',
      applied: { summary: ['c2', 't', 'ok', 'o', 0, '2024-01-01', []] },
    });
  });

  it('a host carries events of its own in order; applyCases and collide send first blocks raw', () => {
    const block = (caseId: string): CaseBlock =>
      ({
        caseId,
        dateModified: '2024-01-01',
        userId: 'u',
        actions: [{ kind: 'create', caseType: 't', caseName: caseId, ownerId: 'o' }],
      }) as CaseBlock;
    const b = new WireBatchBuilder({ collide: /^k2$/ });
    // A host packing c1 itself, then a raw block, then the page it closed.
    const rec = b.firstRecord(block('c1'));
    expect(rec).toMatchObject({ caseId: 'c1', caseName: 'c1' });
    b.countHosted();
    expect(b.firstRecord(block('c1'))).toBeUndefined();
    expect(b.firstRecord(block('k2'))).toBeUndefined();
    b.addBlock(block('k2'));
    b.markHosted('p');
    expect(() => b.markHosted('a')).toThrow(RestorePipeError);
    expect(b.size).toBe(2);
    const batch = b.take(0);
    expect(batch.order).toBe('bp');
    expect(b.pending).toBe(false);
    const page: RestoreEvent = { kind: 'sync', restoreId: 'stands-for-a-page' };
    const hosted = (k: number): RestoreEvent | undefined => (k === 112 ? page : undefined);
    const evs = decodeWireBatch(batch, hosted);
    expect(evs.map((e) => e.kind)).toEqual(['case', 'sync']);
    // Without the host's reader, its letter is refused.
    expect(() => decodeWireBatch(batch)).toThrow(RestorePipeError);

    const json = new WireBatchBuilder({ jsonSummaries: true });
    json.add({ kind: 'case', block: block('c4') });
    const jb = json.take(0);
    expect(jb.summaries).toBe('[["c4","t","c4","o",0,"2024-01-01",[]]]');
    expect(decodeWireBatch(jb, undefined, { jsonSummaries: true })).toMatchObject([
      { kind: 'case-applied', applied: { summary: ['c4', 't', 'c4', 'o', 0, '2024-01-01', []] } },
    ]);
    expect(() => decodeWireBatch({ ...jb, summaries: '[' }, undefined, { jsonSummaries: true })).toThrow(
      RestorePipeError,
    );

    const raw = new WireBatchBuilder({ applyCases: false });
    raw.add({ kind: 'case', block: block('c3') });
    expect(raw.take(0).order).toBe('b');
  });

  it('errors cross the wire with their class, code and position', async () => {
    let thrown: unknown;
    try {
      for await (const _ of wireBatches(
        streamOfChunks([new TextEncoder().encode('<OpenRosaResponse><a></b>')]),
      )) {
        // drained
      }
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(XmlError);
    const back = fromWireError(structuredClone(toWireError(thrown)));
    expect(back).toBeInstanceOf(XmlError);
    expect(back).toMatchObject({ code: 'xml-malformed', line: (thrown as XmlError).line });
    const net = fromWireError({
      name: 'NetworkError',
      code: 'network-error',
      message: 'lost',
      retryable: true,
    });
    expect(net).toMatchObject({ name: 'NetworkError', code: 'network-error', retryable: true });
    const odd = fromWireError(toWireError(new TypeError('boom')));
    expect(odd).toBeInstanceOf(RestorePipeError);
    expect(odd.code).toBe('restore-parser-failed');
  });
});
