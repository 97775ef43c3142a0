import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CASE_COLUMNS } from '../../src/server/db/cases.ts';
import { openDatabase } from '../../src/server/db/database.ts';
import { basic, caseForm, demoEmulator, multipart } from './helpers.ts';

/**
 * The receiver writes only what a form changed (docs/emulator.md "The ordered drain's
 * write path"): the drained form's commit was mostly index pages, one per index.
 */
const fx = demoEmulator();

async function submit(form: string): Promise<void> {
  const res = await fetch(`${fx.emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
  });
  expect(res.status).toBe(201);
}

const create = (id: string, extra = '') =>
  `<create><case_type>member</case_type><case_name>${id}</case_name><owner_id>${fx.w1}</owner_id></create>${extra}`;

function row(caseId: string): Record<string, unknown> {
  return fx.emu.app.db.prepare(`SELECT ${CASE_COLUMNS} FROM cases WHERE case_id = ?`).get(caseId) as Record<
    string,
    unknown
  >;
}

/** Counts writes to case_indices and to the owner index's columns while `fn` runs. */
async function countWrites(fn: () => Promise<void>): Promise<{ indexRows: number; ownerWrites: number }> {
  const db = fx.emu.app.db;
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS write_counts (what TEXT);
    DELETE FROM write_counts;
    CREATE TEMP TRIGGER IF NOT EXISTS count_idx_del AFTER DELETE ON main.case_indices BEGIN INSERT INTO write_counts VALUES ('idx'); END;
    CREATE TEMP TRIGGER IF NOT EXISTS count_idx_ins AFTER INSERT ON main.case_indices BEGIN INSERT INTO write_counts VALUES ('idx'); END;
    CREATE TEMP TRIGGER IF NOT EXISTS count_owner AFTER UPDATE OF owner_id, closed, case_type ON main.cases BEGIN INSERT INTO write_counts VALUES ('owner'); END;`);
  await fn();
  const counts = db.prepare('SELECT what, COUNT(*) AS n FROM write_counts GROUP BY what').all() as {
    what: string;
    n: number;
  }[];
  const n = (w: string) => counts.find((c) => c.what === w)?.n ?? 0;
  return { indexRows: n('idx'), ownerWrites: n('owner') };
}

describe('receiver: a case update writes only the columns it changed', () => {
  it('a property update leaves owner, type and index rows alone and the row as a full write would', async () => {
    await submit(
      caseForm({
        instanceId: 'rw-1',
        caseId: 'rw-parent',
        userId: fx.w1,
        body: create('rw-parent'),
      }),
    );
    await submit(
      caseForm({
        instanceId: 'rw-2',
        caseId: 'rw-child',
        userId: fx.w1,
        body: create(
          'rw-child',
          `<index><parent case_type="member">rw-parent</parent></index><update><age>3</age></update>`,
        ),
      }),
    );
    const before = row('rw-child');
    const writes = await countWrites(() =>
      submit(
        caseForm({
          instanceId: 'rw-3',
          caseId: 'rw-child',
          userId: fx.w1,
          dateModified: '2026-01-02T10:00:00.000Z',
          body: '<update><age>4</age><village>Here</village></update>',
        }),
      ),
    );
    expect(writes).toEqual({ indexRows: 0, ownerWrites: 0 });
    const after = row('rw-child');
    expect(JSON.parse(after.properties as string)).toEqual({ age: '4', village: 'Here' });
    expect(after.modified_on).toBe('2026-01-02T10:00:00.000Z');
    expect(after.indexed_on).not.toBe(before.indexed_on);
    expect(after.indices).toBe(before.indices);
    expect({ ...after, properties: '', modified_on: '', server_modified_on: '', indexed_on: '' }).toEqual({
      ...before,
      properties: '',
      modified_on: '',
      server_modified_on: '',
      indexed_on: '',
    });
    const idx = fx.emu.app.db
      .prepare('SELECT referenced_id FROM case_indices WHERE case_id = ?')
      .pluck()
      .all('rw-child');
    expect(idx).toEqual(['rw-parent']);
  });

  it('an owner change, a close and an index change are written, index rows replaced', async () => {
    const writes = await countWrites(() =>
      submit(
        caseForm({
          instanceId: 'rw-4',
          caseId: 'rw-child',
          userId: fx.w1,
          dateModified: '2026-01-03T10:00:00.000Z',
          body: `<update><owner_id>someone-else</owner_id></update><index><host case_type="member" relationship="extension">rw-parent</host></index><close/>`,
        }),
      ),
    );
    expect(writes.ownerWrites).toBe(1);
    expect(writes.indexRows).toBeGreaterThan(0);
    const after = row('rw-child');
    expect(after.owner_id).toBe('someone-else');
    expect(after.closed).toBe(1);
    const idx = fx.emu.app.db
      .prepare('SELECT identifier, relationship FROM case_indices WHERE case_id = ? ORDER BY identifier')
      .all('rw-child');
    expect(idx).toEqual([
      { identifier: 'host', relationship: 'extension' },
      { identifier: 'parent', relationship: 'child' },
    ]);
  });
});

describe('receiver: forms are stamped in their insert', () => {
  it('a received form has its indexed_on from the insert, unique and after the cases it touched', async () => {
    await submit(
      caseForm({ instanceId: 'rw-5', caseId: 'rw-other', userId: fx.w1, body: create('rw-other') }),
    );
    const f = fx.emu.app.db.prepare('SELECT indexed_on FROM forms WHERE form_id = ?').get('rw-5') as {
      indexed_on: string;
    };
    const c = row('rw-other');
    expect(f.indexed_on).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(f.indexed_on > (c.indexed_on as string)).toBe(true);
    const dupes = fx.emu.app.db
      .prepare('SELECT indexed_on FROM forms GROUP BY indexed_on HAVING COUNT(*) > 1')
      .all();
    expect(dupes).toEqual([]);
  });
});

describe('sync log phone adds: looked up by (log, case)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a database with the older log-only index gets the (log, case) index instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-adds-index-'));
    dirs.push(dir);
    const old = openDatabase(dir);
    old.exec(
      'DROP INDEX sync_log_phone_adds_log_case; CREATE INDEX sync_log_phone_adds_log ON sync_log_phone_adds(log_id)',
    );
    old.close();
    const db = openDatabase(dir);
    try {
      const names = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sync_log_phone_adds'")
        .pluck()
        .all();
      expect(names).toEqual(['sync_log_phone_adds_log_case']);
      const plan = (
        db
          .prepare('EXPLAIN QUERY PLAN SELECT 1 FROM sync_log_phone_adds WHERE log_id = ? AND case_id = ?')
          .all('a', 'b') as { detail: string }[]
      )
        .map((r) => r.detail)
        .join('\n');
      expect(plan).toContain('sync_log_phone_adds_log_case (log_id=? AND case_id=?)');
    } finally {
      db.close();
    }
  });
});
