import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/server/db/database.ts';
import { EXTENSION_EDGES_SQL } from '../../src/server/restore/generate.ts';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fieldsim-schema-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function planOf(db: ReturnType<typeof openDatabase>): string {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${EXTENSION_EDGES_SQL}`).all('demo') as { detail: string }[];
  return rows.map((r) => r.detail).join('\n');
}

describe('restore live query: extension edges index', () => {
  it('reads the extension edges through the partial index, not a scan of case_indices', () => {
    const db = openDatabase(freshDir());
    try {
      const plan = planOf(db);
      expect(plan).toContain('case_indices_extension');
      expect(plan).not.toMatch(/SCAN ci(?!\w)/);
    } finally {
      db.close();
    }
  });

  it('is added to a database created before the index was in the schema', () => {
    const dir = freshDir();
    const old = openDatabase(dir);
    old.exec('DROP INDEX case_indices_extension');
    expect(planOf(old)).not.toContain('case_indices_extension');
    old.close();
    const reopened = openDatabase(dir);
    try {
      expect(planOf(reopened)).toContain('case_indices_extension');
    } finally {
      reopened.close();
    }
  });
});

describe('columns added after schema version 1', () => {
  it('are added to an existing users table when the database is opened', () => {
    const dir = freshDir();
    const old = openDatabase(dir);
    old.exec('ALTER TABLE users DROP COLUMN profile');
    old.exec('ALTER TABLE users DROP COLUMN tableau_role');
    old.close();
    const reopened = openDatabase(dir);
    try {
      const cols = (
        reopened.prepare("SELECT name FROM pragma_table_info('users')").all() as { name: string }[]
      ).map((r) => r.name);
      expect(cols).toEqual(expect.arrayContaining(['profile', 'tableau_role']));
    } finally {
      reopened.close();
    }
  });
});
