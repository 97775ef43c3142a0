import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/fieldsim.js');
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-seed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('fieldsim seed', () => {
  it('loads N cases for the worker into a fresh data folder, on top of the demo project', () => {
    const dir = join(tmp, 'a');
    const r = run('seed', '--cases', '2000', '--user', 'worker2', '--data', dir, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ dataDir: dir, username: 'worker2@demo.commcarehq.org' });
    expect(out.households + out.members).toBe(2000);
    const db = new Database(join(dir, 'fieldsim-hq.sqlite'), { readonly: true });
    try {
      const owner = db
        .prepare("SELECT id FROM users WHERE username = 'worker2@demo.commcarehq.org'")
        .get() as {
        id: string;
      };
      const n = db.prepare('SELECT COUNT(*) AS n FROM cases WHERE owner_id = ?').get(owner.id) as {
        n: number;
      };
      // the demo project's 25 cases of worker2 plus the 2000 seeded ones
      expect(n.n).toBe(2025);
      const parents = db
        .prepare("SELECT COUNT(*) AS n FROM case_indices WHERE identifier = 'parent'")
        .get() as { n: number };
      expect(parents.n).toBeGreaterThan(out.members - 1);
    } finally {
      db.close();
    }
  });

  it('an unknown worker exits 2 with a JSON error', () => {
    const r = run('seed', '--cases', '10', '--user', 'nobody', '--data', join(tmp, 'b'), '--json');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toContain('no mobile worker nobody');
  });
});
