import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { streamOfChunks, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import { XmlError } from '../../../src/core/errors/xml-error.ts';
import type { CaseBlock } from '../../../src/core/protocol/casexml/case-types.ts';
import { fromString, parseRestore } from '../../../src/core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../../../src/core/protocol/restore/restore-types.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { decodePage, loadCatalog } from '../../../src/core/store/case-writer.ts';
import { type CasePageRow, type CaseSumRow, FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import type { ParseThreadInput } from '../../../src/node-store/restore-parse-messages.ts';
import {
  parseRestoreInThread,
  RestoreThreadError,
  spawnParseThread,
} from '../../../src/node-store/restore-parse-thread.ts';
import { SqliteStore } from '../../../src/node-store/sqlite-store.ts';

/**
 * The worker-thread restore parser (src/node-store/restore-parse-thread.ts): the same
 * batches and typed errors as `parseRestore` in this thread, and a thread that fails in
 * any way is a typed error that leaves the previous generation.
 */

const dir = mkdtempSync(join(tmpdir(), 'fieldsim-parse-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIXED =
  '<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="5">' +
  '<Sync xmlns="http://commcarehq.org/sync"><restore_id>tok-1</restore_id></Sync>' +
  '<Registration xmlns="http://openrosa.org/user/registration"><username>u</username><password>x</password><uuid>u1</uuid><date>2024-01-01</date><user_data><data key="__proto__">p</data></user_data></Registration>' +
  '<fixture id="item-list:x" user_id="u1"><x_list><x a="1"><name>A</name></x></x_list></fixture>' +
  '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c1" date_modified="2024-01-01T00:00:00Z" user_id="u1"><create><case_type>t</case_type><case_name>One</case_name><owner_id>u1</owner_id></create><update><__proto__>v</__proto__><é>ü</é></update></case>' +
  '<balance xmlns="http://commcarehq.org/ledger/v1" entity-id="c1" date="2024-01-01T00:00:00Z" section-id="stock"><entry id="p1" quantity="3"/></balance>' +
  '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c2" date_modified="2024-01-01T00:00:00Z" user_id="u1"><create><case_type>t</case_type><case_name>Two</case_name><owner_id>u1</owner_id></create><index><parent case_type="t" relationship="extension">c1</parent></index></case>' +
  '</OpenRosaResponse>';

async function all(it: AsyncIterable<RestoreEvent[]>): Promise<RestoreEvent[][]> {
  const out: RestoreEvent[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function failure(it: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of it) {
      // drained
    }
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

/** A thread that answers with `script` (plain JS with `parentPort` in scope) instead of parsing. */
function fakeThread(script: string): (input: ParseThreadInput) => Worker {
  return () =>
    new Worker(`const { parentPort } = require('node:worker_threads');\n${script}`, { eval: true });
}

describe('parseRestoreInThread', () => {
  it('yields the same batches as parseRestore, other events in place', async () => {
    for (const batchSize of [1, 2, 2000]) {
      const here = await all(parseRestore(fromString(MIXED), { batchSize }));
      const there = await all(parseRestoreInThread(fromString(MIXED), { batchSize }));
      expect(there).toEqual(here);
    }
    const events = (await all(parseRestoreInThread(fromString(MIXED)))).flat();
    const c1 = events.find((e) => e.kind === 'case' && e.block.caseId === 'c1');
    expect(JSON.stringify(c1)).toContain('"__proto__","v"');
  });

  it('streams a large payload in batches, reporting bytes as read', async () => {
    const { chunks, bytes } = synthRestoreChunks(3000);
    const seen: number[] = [];
    const batches = await all(
      parseRestoreInThread(streamOfChunks(chunks), { batchSize: 250, onBytes: (b) => seen.push(b) }),
    );
    const cases = batches.flat().filter((e) => e.kind === 'case');
    expect(cases).toHaveLength(3000);
    expect(batches.length).toBeGreaterThan(10);
    expect(seen.at(-1)).toBe(bytes);
    // Chunks move to the thread (transferred, not copied): the caller's are detached.
    expect(chunks[0]?.byteLength).toBe(0);
  });

  it('a parse error in the thread is the same typed XmlError here', async () => {
    const bad = MIXED.replace('</OpenRosaResponse>', '<case case_id="c9"><create></case></OpenRosaResponse>');
    const here = await failure(parseRestore(fromString(bad)));
    const there = await failure(parseRestoreInThread(fromString(bad)));
    expect(there).toBeInstanceOf(XmlError);
    expect(there).toMatchObject({
      code: (here as XmlError).code,
      message: (here as XmlError).message,
      line: (here as XmlError).line,
    });
  });

  it('hostile limits stay typed xml-too-large errors naming the case', async () => {
    const kids = '<p>1</p>'.repeat(50);
    const xml = MIXED.replace('<update>', `<update>${kids}`);
    const e = await failure(parseRestoreInThread(fromString(xml), { limits: { maxChildren: 20 } }));
    expect(e).toBeInstanceOf(XmlError);
    expect(e).toMatchObject({ code: 'xml-too-large', caseId: 'c1' });
  });

  it('a failing body is a typed network error, and the thread is stopped', async () => {
    async function* broken(): AsyncGenerator<string> {
      yield MIXED.slice(0, 200);
      throw new Error('connection reset');
    }
    const e = await failure(parseRestoreInThread(broken()));
    expect(isFieldsimError(e)).toBe(true);
    expect(e).toMatchObject({ name: 'NetworkError', code: 'network-error' });
  });

  it('an abort stops it with the aborted code', async () => {
    const ctl = new AbortController();
    const { chunks } = synthRestoreChunks(2000);
    const it = parseRestoreInThread(streamOfChunks(chunks), { batchSize: 100, signal: ctl.signal });
    let n = 0;
    const e = await failure(
      (async function* () {
        for await (const b of it) {
          if (++n === 2) ctl.abort();
          yield b;
        }
      })(),
    );
    expect(e).toMatchObject({ code: 'aborted' });
  });

  it('a thread that crashes, exits or sends garbage is a RestoreThreadError', async () => {
    const scripts = [
      "parentPort.on('message', () => { throw new Error('boom'); });",
      "parentPort.on('message', () => process.exit(3));",
      "parentPort.on('message', (m) => { if (m.type === 'chunk') parentPort.postMessage({ type: 'batch', order: 'b', blocks: '[{', records: '', summaries: '[]', other: [] }); });",
      "parentPort.on('message', (m) => { if (m.type === 'chunk') parentPort.postMessage({ type: 'bogus' }); });",
      "parentPort.on('message', (m) => { if (m.type === 'chunk') parentPort.postMessage({ type: 'batch', order: 'ab', blocks: '[]', records: '{}', summaries: '[]', other: [] }); });",
      "parentPort.on('message', (m) => { if (m.type === 'chunk') parentPort.postMessage({ type: 'error', error: { name: 'TypeError', message: 'x is undefined' } }); });",
    ];
    for (const script of scripts) {
      const e = await failure(parseRestoreInThread(fromString(MIXED), {}, { spawn: fakeThread(script) }));
      expect(e, script).toBeInstanceOf(RestoreThreadError);
      expect((e as RestoreThreadError).code).toBe('restore-parser-failed');
    }
  });

  it('stopping early terminates the thread', async () => {
    let worker: Worker | undefined;
    const { chunks } = synthRestoreChunks(3000);
    for await (const _ of parseRestoreInThread(
      streamOfChunks(chunks),
      { batchSize: 100 },
      {
        spawn: (input) => {
          worker = spawnParseThread(input);
          return worker;
        },
      },
    ))
      break;
    const w = worker as Worker;
    await new Promise<void>((resolve) => {
      if (w.threadId === -1) resolve();
      else w.once('exit', () => resolve());
    });
    expect(w.threadId).toBe(-1);
  });
});

describe('a full restore through the parse thread', () => {
  it('a file store parses in the thread; a thread failure or parse error keeps the old generation', async () => {
    const store = SqliteStore.open(join(dir, 'db.sqlite'));
    expect(store.deps().restoreParser).toBe(store.restoreParser);
    const db = new FieldsimDb('thread-ingest', store.deps());
    const first = await ingestRestore(db, streamOfChunks(synthRestoreChunks(700).chunks), { mode: 'full' });
    expect(first.cases).toBe(700);
    const before = await loadCatalog(db);

    // One good batch, then the thread dies before the end of the payload.
    const dying = fakeThread(
      "let sent = false; parentPort.on('message', (m) => {" +
        " if (m.type === 'chunk' && !sent) { sent = true; parentPort.postMessage({ type: 'batch', order: 'b', other: [], records: '', summaries: '[]'," +
        " blocks: JSON.stringify([{ caseId: 'x1', actions: [{ kind: 'create', caseType: 't', caseName: 'n', ownerId: 'o' }] }]) }); }" +
        " else if (m.type === 'ack') process.exit(9); });",
    );
    const db2 = new FieldsimDb('thread-ingest', {
      ...store.deps(),
      restoreParser: (body, opts) => parseRestoreInThread(body, opts, { spawn: dying }),
    });
    const e = await ingestRestore(db2, streamOfChunks(synthRestoreChunks(900).chunks), {
      mode: 'full',
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RestoreThreadError);

    const { chunks } = synthRestoreChunks(900);
    const cut = [...chunks.slice(0, 3), new TextEncoder().encode('<case case_id="z"><broken')];
    const e2 = await ingestRestore(db, streamOfChunks(cut), { mode: 'full' }).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(XmlError);

    const after = await loadCatalog(db);
    expect(after.state.gen).toBe(before.state.gen);
    expect(after.cat.entries.size).toBe(700);
    expect([...after.cat.entries.keys()].sort()).toEqual([...before.cat.entries.keys()].sort());
    // Nothing of the failed generations is left behind once the next restore runs.
    const again = await ingestRestore(db, streamOfChunks(synthRestoreChunks(50).chunks), { mode: 'full' });
    expect(again.cases).toBe(50);
    db.close();
    db2.close();
    store.close();
  });
});

/** Every stored case of the live generation, by id, and the catalog entries. */
async function dump(db: FieldsimDb): Promise<{ records: unknown[]; entries: unknown[] }> {
  const { state, cat } = await loadCatalog(db);
  const rows = await db.casePages
    .where('[gen+page]')
    .between([state.gen, -Infinity], [state.gen, Infinity])
    .toArray();
  const records = rows
    .flatMap((r) => decodePage(r as Parameters<typeof decodePage>[0]))
    .sort((a, b) => (a.caseId < b.caseId ? -1 : 1));
  const entries = [...cat.entries]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, e]) => [id, { ...e, page: 0 }]);
  return { records, entries };
}

const caseXml = (id: string, inner: string): string =>
  `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${id}" date_modified="2024-02-0${id.length % 9}T00:00:00Z" user_id="u1">${inner}</case>`;

describe('cases applied in the parse thread (a full restore of a file store)', () => {
  it('stores exactly what the in-thread ingest stores, later blocks of a case included', async () => {
    const create = (id: string, name: string): string =>
      caseXml(
        id,
        `<create><case_type>t</case_type><case_name>${name}</case_name><owner_id>u1</owner_id></create>`,
      );
    const body =
      '<OpenRosaResponse xmlns="http://openrosa.org/http/response">' +
      '<Registration xmlns="http://openrosa.org/user/registration"><username>u</username><password>x</password><uuid>u1</uuid><date>2024-01-01</date></Registration>' +
      create('p1', 'Parent') +
      caseXml(
        ' c1 ',
        '<create><case_type>t</case_type><case_name>C</case_name><owner_id>u1</owner_id></create><update><__proto__>a</__proto__><constructor>b</constructor></update><index><parent case_type="t">p1</parent></index>',
      ) +
      create('c2', 'Two') +
      caseXml('c1', '<update><age>3</age></update>') +
      create('c3', 'Three') +
      caseXml('c3', '<close/>') +
      caseXml('c4', '') +
      create('c2', 'Two again') +
      '</OpenRosaResponse>';
    const results: Awaited<ReturnType<typeof dump>>[] = [];
    for (const threaded of [true, false]) {
      const store = SqliteStore.open(join(dir, `parity-${threaded}.sqlite`));
      const { restoreParser, ...inThread } = store.deps();
      const db = new FieldsimDb(
        'parity',
        threaded ? { ...inThread, ...(restoreParser ? { restoreParser } : {}) } : inThread,
      );
      expect(db.restoreParser).toBe(threaded ? store.restoreParser : undefined);
      // Batches of 2: a case's later blocks land in the same and in later batches.
      const r = await ingestRestore(db, fromString(body), { mode: 'full', batchSize: 2, purge: false });
      expect(r.cases).toBe(4);
      results.push(await dump(db));
      db.close();
      store.close();
    }
    expect(results[0]).toEqual(results[1]);
    expect(JSON.stringify(results[0]?.records)).toContain('"__proto__":"a"');
  });

  it('a first block the rules refuse fails the restore with the same typed error', async () => {
    const body =
      '<OpenRosaResponse xmlns="http://openrosa.org/http/response">' +
      caseXml('c9', '<update><age>3</age></update>') +
      '</OpenRosaResponse>';
    const store = SqliteStore.open(join(dir, 'refused.sqlite'));
    const db = new FieldsimDb('refused', store.deps());
    const e = await ingestRestore(db, fromString(body), { mode: 'full' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(XmlError);
    expect(e).toMatchObject({ code: 'case-not-found' });
    db.close();
    store.close();
  });
});

/** Each catalog entry's page holds its case, and a fresh load of the catalog from disk equals it. */
async function checkPagesAgree(file: string, name: string, db: FieldsimDb): Promise<void> {
  const { state, cat } = await loadCatalog(db);
  const rows = await db.casePages
    .where('[gen+page]')
    .between([state.gen, -Infinity], [state.gen, Infinity])
    .toArray();
  const byPage = new Map(rows.map((r) => [r.page, r as { ids: string[] }]));
  for (const [id, e] of cat.entries) expect(byPage.get(e.page)?.ids).toContain(id);
  expect(rows.reduce((n, r) => n + (r as { ids: string[] }).ids.length, 0)).toBe(cat.entries.size);
  // The tail the state records is the last page, and it is not over-full.
  expect(state.tailPage).toBe(Math.max(...byPage.keys()));
  expect(state.tailCount).toBe(byPage.get(state.tailPage)?.ids.length);
  const other = SqliteStore.open(file);
  const db2 = new FieldsimDb(name, other.deps());
  const fresh = await loadCatalog(db2);
  expect([...fresh.cat.entries].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual(
    [...cat.entries].sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  db2.close();
  other.close();
}

describe('pages packed in the parse thread (a full restore of a plain file store)', () => {
  it('sends whole pages of new cases, encoded as the store keeps them', async () => {
    const { chunks } = synthRestoreChunks(100);
    const events = (
      await all(
        parseRestoreInThread(
          streamOfChunks(chunks),
          { batchSize: 250 },
          { applyCases: true, pack: { gen: 5 } },
        ),
      )
    ).flat();
    const pages = events.flatMap((e) => (e.kind === 'case-page' ? [e.page] : []));
    expect(events.filter((e) => e.kind === 'case' || e.kind === 'case-applied')).toEqual([]);
    expect(pages.map((p) => p.page)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pages.map((p) => p.summaries.length)).toEqual([16, 16, 16, 16, 16, 16, 4]);
    const first = pages[0] as (typeof pages)[number];
    const row = deserialize((first.pageRow as unknown as { bytes: Buffer }).bytes) as CasePageRow;
    expect(row).toMatchObject({ gen: 5, page: 0 });
    expect(row.ids).toEqual(first.summaries.map((s) => s[0]));
    expect(JSON.parse(row.data[0] as string)).toMatchObject({ caseId: row.ids[0] });
    const sums = deserialize((first.sumRow as unknown as { bytes: Buffer }).bytes) as CaseSumRow;
    expect(sums).toEqual({ gen: 5, page: 0, sums: JSON.stringify(first.summaries) });
  });

  it('stores what the in-thread ingest stores, with later blocks and colliding id hashes', async () => {
    // 300 cases, every 7th updated later and every 11th closed later; `collide` makes the
    // thread take some new cases for known ones (an id hash collision) and send them raw,
    // so the main thread appends them on the pages the thread keeps clear for it.
    let body =
      '<OpenRosaResponse xmlns="http://openrosa.org/http/response">' +
      '<Registration xmlns="http://openrosa.org/user/registration"><username>u</username><password>x</password><uuid>u1</uuid><date>2024-01-01</date></Registration>';
    for (let i = 0; i < 300; i++) {
      body += caseXml(
        `k${i}`,
        `<create><case_type>t</case_type><case_name>N${i}</case_name><owner_id>u1</owner_id></create>${
          i > 0 ? `<index><parent case_type="t">k${i - 1}</parent></index>` : ''
        }`,
      );
      if (i % 7 === 3) body += caseXml(`k${i - 2}`, `<update><age>${i}</age></update>`);
      if (i % 11 === 5) body += caseXml(`k${i}`, '<close/>');
    }
    body += '</OpenRosaResponse>';
    const results: Awaited<ReturnType<typeof dump>>[] = [];
    for (const mode of ['in-thread', 'packed', 'colliding'] as const) {
      const file = join(dir, `packed-${mode}.sqlite`);
      const store = SqliteStore.open(file);
      const { restoreParser, ...inThread } = store.deps();
      const db = new FieldsimDb(
        'packed',
        mode === 'in-thread'
          ? inThread
          : {
              ...inThread,
              restoreParser: (b, o, staged) =>
                parseRestoreInThread(b, o, {
                  applyCases: true,
                  ...(staged ? { pack: staged } : {}),
                  // Runs of raw new cases, short and longer than a page's room.
                  ...(mode === 'colliding'
                    ? { collide: /^k(2[0-9]|3[0-9]|4[0-9]|5[0-7]|10[0-2]|\d*7)$/ }
                    : {}),
                }),
            },
      );
      for (const batchSize of [250, 5]) {
        const r = await ingestRestore(db, fromString(body), { mode: 'full', batchSize, purge: false });
        expect(r.cases).toBe(300);
      }
      results.push(await dump(db));
      await checkPagesAgree(file, 'packed', db);
      // A save after the restore appends to the tail the restore left.
      await new CaseDb(db).applyBlocks([
        { caseId: 'later', actions: [{ kind: 'create', caseType: 't', caseName: 'L', ownerId: 'u1' }] },
      ] as CaseBlock[]);
      expect((await new CaseDb(db).stats()).total).toBe(301);
      await checkPagesAgree(file, 'packed', db);
      db.close();
      store.close();
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('only a plain database gets packed pages (an encrypted one seals its own)', async () => {
    const store = SqliteStore.open(join(dir, 'packed-sealed.sqlite'));
    const targets: unknown[] = [];
    const deps = store.deps();
    const plain = new FieldsimDb('plain', {
      ...deps,
      restoreParser: (b, o, staged) => {
        targets.push(staged);
        return (deps.restoreParser as NonNullable<typeof deps.restoreParser>)(b, o, staged);
      },
    });
    await ingestRestore(plain, streamOfChunks(synthRestoreChunks(40).chunks), { mode: 'full' });
    expect(targets).toEqual([{ gen: expect.any(Number) }]);
    plain.close();
    targets.length = 0;
    const db = new FieldsimDb('sealed', {
      ...deps,
      restoreParser: (b, o, staged) => {
        targets.push(staged);
        return (deps.restoreParser as NonNullable<typeof deps.restoreParser>)(b, o, staged);
      },
    });
    db.vault.open(new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key));
    const r = await ingestRestore(db, streamOfChunks(synthRestoreChunks(40).chunks), { mode: 'full' });
    expect(r.cases).toBe(40);
    expect(targets).toEqual([undefined]);
    expect((await new CaseDb(db).stats()).total).toBe(40);
    db.close();
    store.close();
  });
});
