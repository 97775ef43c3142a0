import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';
import { streamOfChunks, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { StateStore } from '../../../src/cli/state/state-store.ts';
import { openSession } from '../../../src/cli/worker-session.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { getSyncToken } from '../../../src/core/store/sync-state.ts';
import { SqliteStore } from '../../../src/node-store/sqlite-store.ts';
import { SqliteStoreError } from '../../../src/node-store/sqlite-store-error.ts';
import { testSessionRecord } from '../../helpers/session-record.ts';

/**
 * The CLI state folder's SQLite database: refusing foreign and damaged files, migrating an
 * old snapshot folder, keeping the old generation through a kill or a full disk.
 */
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-sqlite-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const record = testSessionRecord();

let n = 0;
function freshState(): StateStore {
  return new StateStore(join(tmp, `state-${++n}`));
}

async function restoreInto(file: string, cases: number): Promise<void> {
  const store = SqliteStore.open(file);
  const db = new FieldsimDb('kill-test', store.deps());
  try {
    await ingestRestore(db, streamOfChunks(synthRestoreChunks(cases).chunks), { mode: 'full', purge: false });
  } finally {
    db.close();
    store.close();
  }
}

async function countCases(file: string): Promise<{ cases: number; ids: number; token: string | null }> {
  const store = SqliteStore.open(file);
  const db = new FieldsimDb('kill-test', store.deps());
  try {
    const cdb = new CaseDb(db);
    const stats = await cdb.stats();
    return { cases: stats.total, ids: (await cdb.ids()).length, token: await getSyncToken(db) };
  } finally {
    db.close();
    store.close();
  }
}

describe('SQLite state files', () => {
  it('refuses a foreign SQLite file, naming it and leaving it as it was', async () => {
    const state = freshState().open(record, 'test');
    try {
      const other = new Database(state.dbPath);
      other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
      other.prepare('INSERT INTO notes (body) VALUES (?)').run('keep me');
      other.close();
      const before = readFileSync(state.dbPath);
      const err = await state.openStore().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SqliteStoreError);
      expect(err).toMatchObject({ code: 'state-corrupt', problem: 'foreign', path: state.dbPath });
      expect((err as Error).message).toContain(state.dbPath);
      expect(readFileSync(state.dbPath).equals(before)).toBe(true);
    } finally {
      state.release();
    }
  });

  it('refuses a damaged file, naming it and leaving it as it was', async () => {
    const state = freshState().open(record, 'test');
    try {
      const junk = Buffer.alloc(8192, 0x5a);
      writeFileSync(state.dbPath, junk);
      const err = await state.openStore().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'state-corrupt', problem: 'corrupt', path: state.dbPath });
      expect((err as Error).message).toContain(state.dbPath);
      expect(readFileSync(state.dbPath).equals(junk)).toBe(true);
    } finally {
      state.release();
    }
  });

  it('migrates a snapshot folder on first use and keeps the snapshot renamed', async () => {
    const state = freshState().open(record, 'test');
    try {
      // An old-style folder: the whole fake-indexeddb database in db.snapshot.
      const factory = new IDBFactory();
      const old = await openSession({ indexedDB: factory, IDBKeyRange }, record);
      const c = await old.registerCase({ caseType: 'household', caseName: 'Old times' });
      const queued = await old.listOutbox();
      await state.saveFrom(factory);
      old.close();
      expect(existsSync(state.snapshotPath)).toBe(true);

      const store = await state.openStore();
      const s = await openSession(store.deps(), record);
      try {
        expect((await s.getCase(c.caseId))?.caseName).toBe('Old times');
        expect((await s.listOutbox()).map((f) => [f.instanceId, f.seq])).toEqual(
          queued.map((f) => [f.instanceId, f.seq]),
        );
        // The outbox order continues after the migrated forms.
        const next = await s.registerCase({ caseType: 'household', caseName: 'New times' });
        const forms = await s.listOutbox();
        expect(forms.length).toBe(queued.length + 1);
        expect(next.caseId).not.toBe(c.caseId);
      } finally {
        s.close();
        store.close();
      }
      expect(existsSync(state.snapshotPath)).toBe(false);
      expect(existsSync(`${state.snapshotPath}.migrated`)).toBe(true);
      expect(existsSync(state.dbPath)).toBe(true);
    } finally {
      state.release();
    }
  });

  it('two commands on one state folder are serialized by the lock', async () => {
    const store = freshState();
    const first = store.open(record, 'submit');
    const db1 = await first.openStore();
    const s1 = await openSession(db1.deps(), record);
    const c = await s1.registerCase({ caseType: 'household', caseName: 'First' });
    // The second command is refused while the first holds the folder, and writes nothing.
    expect(() => store.open(record, 'cases')).toThrow(expect.objectContaining({ code: 'state-in-use' }));
    s1.close();
    db1.close();
    first.release();
    const second = store.open(record, 'cases');
    const db2 = await second.openStore();
    const s2 = await openSession(db2.deps(), record);
    try {
      expect((await s2.getCase(c.caseId))?.caseName).toBe('First');
    } finally {
      s2.close();
      db2.close();
      second.release();
    }
  });

  it('a full disk during a restore fails with storage-full and keeps the old generation', async () => {
    const file = join(tmp, `full-${++n}.sqlite`);
    await restoreInto(file, 300);
    const store = SqliteStore.open(file);
    // The file may not grow by more than a few pages: the next write fails as on a full disk.
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages + 20}`);
    const db = new FieldsimDb('kill-test', store.deps());
    const err = await ingestRestore(db, streamOfChunks(synthRestoreChunks(5000).chunks), {
      mode: 'full',
      purge: false,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'storage-full' });
    // Still usable in the same process, on the old generation.
    expect((await new CaseDb(db).stats()).total).toBe(300);
    db.close();
    store.close();
    expect(await countCases(file)).toMatchObject({ cases: 300, ids: 300 });
  });

  it('SIGKILL at any point of a restore leaves the old generation or the new one, never a mix', async () => {
    const child = resolve(import.meta.dirname, 'helpers/restore-child.ts');
    const file = join(tmp, `kill-${++n}.sqlite`);
    await restoreInto(file, 300);
    const seen = new Set<number>();
    // Kill after 1, 5 and 12 progress events, and once after it finished.
    for (const killAt of [1, 5, 12, Number.POSITIVE_INFINITY]) {
      const p = spawn(process.execPath, ['--import', 'tsx', child, file, '6000'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let events = 0;
      let out = '';
      await new Promise<void>((done) => {
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          events = (out.match(/progress/g) ?? []).length;
          if (events >= killAt) p.kill('SIGKILL');
        });
        p.on('exit', () => done());
      });
      const after = await countCases(file);
      expect([300, 6000]).toContain(after.cases);
      expect(after.ids).toBe(after.cases);
      seen.add(after.cases);
      if (killAt === Number.POSITIVE_INFINITY) expect(after.cases).toBe(6000);
      else await restoreInto(file, 300);
    }
    expect(seen.has(300)).toBe(true);
  }, 120_000);
});
