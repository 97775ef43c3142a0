import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { streamOfChunks, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { SqliteStore } from '../../../src/node-store/sqlite-store.ts';
import { STAGED_PER_COMMIT } from '../../../src/node-store/sqlite-tx-queue.ts';

/**
 * A restore's staged transactions are grouped into few SQLite transactions (one
 * SAVEPOINT each, sqlite-tx-queue.ts); what Dexie saw committed stays, an aborted one
 * takes back only its own writes, and any other write commits the group first.
 */
const dir = mkdtempSync(join(tmpdir(), 'fieldsim-group-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function open(): { file: string; store: SqliteStore; db: FieldsimDb } {
  const file = join(dir, `g${++n}.sqlite`);
  const store = SqliteStore.open(file);
  return { file, store, db: new FieldsimDb('group', store.deps()) };
}

/** What another connection (another process, after a kill) reads from the file now. */
function committedPages(file: string): number[] {
  const other = new Database(file, { readonly: true });
  try {
    const rows = other.prepare('SELECT count(*) AS n FROM "d1:casePages"').get() as { n: number };
    const meta = other.prepare('SELECT count(*) AS n FROM "d1:meta"').get() as { n: number };
    return [rows.n, meta.n];
  } finally {
    other.close();
  }
}

const page = (gen: number, p: number) => ({ gen, page: p, ids: [`c${p}`], data: ['{}'] });

function countCommits(store: SqliteStore): { commits: number; savepoints: number } {
  const seen = { commits: 0, savepoints: 0 };
  const exec = store.db.exec.bind(store.db);
  store.db.exec = ((sql: string) => {
    if (sql === 'COMMIT') seen.commits++;
    if (sql.startsWith('SAVEPOINT')) seen.savepoints++;
    return exec(sql);
  }) as typeof store.db.exec;
  return seen;
}

describe('staged transactions grouped into one SQLite transaction', () => {
  it('a restore commits once per group, and its cases are all there for another connection', async () => {
    const { file, store, db } = open();
    const seen = countCommits(store);
    const r = await ingestRestore(db, streamOfChunks(synthRestoreChunks(8000).chunks), {
      mode: 'full',
      batchSize: 20,
    });
    expect(r.cases).toBe(8000);
    // Every batch a savepoint (the parse thread sends them ~30 events at a time), a commit
    // per group of STAGED_PER_COMMIT, plus the few ordinary transactions (cleanup, switch).
    expect(seen.savepoints).toBeGreaterThan(STAGED_PER_COMMIT);
    expect(seen.commits).toBeLessThanOrEqual(Math.ceil(seen.savepoints / STAGED_PER_COMMIT) + 4);
    expect((await new CaseDb(db).stats()).total).toBe(8000);
    expect(committedPages(file)[0]).toBe(8000 / 16);
    db.close();
    store.close();
    // The WAL was flushed in the background while the groups went in.
    expect(store.presync?.syncs).toBeGreaterThan(0);
  });

  it('an aborted staged transaction takes back only its own writes', async () => {
    const { file, store, db } = open();
    store.stagedWrites(true);
    await db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], () => db.casePages.put(page(7, 0)));
    const err = await db
      .transaction('rw', [db.casePages, db.caseSums, db.ledgers], async () => {
        await db.casePages.put(page(7, 1));
        throw new Error('batch failed');
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('batch failed');
    await db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], () => db.casePages.put(page(7, 2)));
    // Reads run inside the group and see its rows.
    expect((await db.casePages.toArray()).map((r) => r.page)).toEqual([0, 2]);
    store.stagedWrites(false);
    // The next ordinary write commits the group first, then itself, durably.
    await db.meta.put({ key: 'after', value: 1 });
    expect(committedPages(file)).toEqual([2, 1]);
    db.close();
    store.close();
  });

  it('any other write during staging commits the group and itself at once', async () => {
    const { file, store, db } = open();
    store.stagedWrites(true);
    await db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], () => db.casePages.put(page(3, 0)));
    // Not yet in the file: the group is open.
    expect(committedPages(file)).toEqual([0, 0]);
    await db.meta.put({ key: 'saved', value: 1 });
    expect(committedPages(file)).toEqual([1, 1]);
    store.stagedWrites(false);
    db.close();
    store.close();
  });

  it('closing the store keeps the staged transactions that completed', async () => {
    const { file, store, db } = open();
    store.stagedWrites(true);
    for (let p = 0; p < 3; p++)
      await db.transaction('rw', [db.casePages, db.caseSums, db.ledgers], () => db.casePages.put(page(5, p)));
    db.close();
    store.close();
    expect(committedPages(file)).toEqual([3, 0]);
  });

  it('a full disk while staging fails the restore and leaves the old generation readable', async () => {
    const { file, store, db } = open();
    await ingestRestore(db, streamOfChunks(synthRestoreChunks(200).chunks), { mode: 'full' });
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    // Room for a few groups' worth, not for the whole restore.
    store.db.pragma(`max_page_count = ${pages + 400}`);
    const err = await ingestRestore(db, streamOfChunks(synthRestoreChunks(8000).chunks), {
      mode: 'full',
      batchSize: 20,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'storage-full' });
    expect((await new CaseDb(db).stats()).total).toBe(200);
    await db.meta.put({ key: 'after', value: 1 });
    db.close();
    store.close();
    const other = new Database(file, { readonly: true });
    expect(other.pragma('quick_check', { simple: true })).toBe('ok');
    other.close();
  });
});

/**
 * WalCkptInfo.nBackfill of a WAL-mode file: the WAL frames already copied into the
 * database file (the -shm file's layout, sqlite/src/wal.c: two 48-byte index headers,
 * then nBackfill as a native-endian u32).
 */
function backfilled(file: string): number {
  try {
    return readFileSync(`${file}-shm`).readUInt32LE(96);
  } catch {
    return 0;
  }
}

describe('the parse thread checkpoints the WAL while it waits', () => {
  it('copies staged frames into the database file before the switch, off the main thread', async () => {
    const { store, db, file } = open();
    const seen: number[] = [];
    const r = await ingestRestore(db, streamOfChunks(synthRestoreChunks(6000).chunks), {
      mode: 'full',
      batchSize: 20,
      onProgress: (p) => {
        if (p.phase !== 'downloading') return;
        // A slow main thread: the parse thread gets ahead and waits, and checkpoints then.
        const until = performance.now() + 15;
        while (performance.now() < until);
        seen.push(backfilled(file));
      },
    });
    expect(r.cases).toBe(6000);
    // Automatic checkpoints are off on the main connection while staging
    // (sqlite-tx-queue.ts): frames copied meanwhile were the thread's.
    expect(Math.max(...seen)).toBeGreaterThan(0);
    db.close();
    store.close();
    const other = new Database(file, { readonly: true });
    expect(other.pragma('integrity_check', { simple: true })).toBe('ok');
    other.close();
  });
});
