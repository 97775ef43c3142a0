import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getUserByUsername, ownerIds } from '../../src/server/db/users.ts';
import { createEmulator, type Emulator } from '../../src/server/emulator.ts';
import { planRestore } from '../../src/server/restore/generate.ts';
import { seedSyntheticCases } from '../../src/server/seed/synthetic.ts';

let emu: Emulator | undefined;
afterEach(() => {
  emu?.close({ removeData: true });
  emu = undefined;
});

describe('synthetic seeding', () => {
  it('loads households with members indexed to them, all restorable, ~650-700 bytes per case', () => {
    emu = createEmulator({ dataDir: mkdtempSync(join(tmpdir(), 'fieldsim-seed-')) });
    const user = getUserByUsername(emu.db, 'worker2@demo.commcarehq.org')!;
    const r = seedSyntheticCases(emu.db, { domain: 'demo', ownerId: user.id, count: 1237 });
    expect(r).toEqual({ households: 310, members: 927 });
    const db = emu.db;
    expect(db.prepare('SELECT COUNT(*) AS n FROM cases WHERE owner_id = ?').get(user.id)).toEqual({
      n: 1237 + 25,
    });
    // Every member's index row points at an existing household, and matches its JSON.
    const dangling = db
      .prepare(
        `SELECT COUNT(*) AS n FROM case_indices ci LEFT JOIN cases h ON h.case_id = ci.referenced_id
         WHERE h.case_id IS NULL OR h.case_type != 'household'`,
      )
      .get() as { n: number };
    expect(dangling.n).toBe(0);
    const plan = planRestore(
      db,
      { domain: 'demo', user, since: undefined, skipFixtures: true, deviceId: '', appId: '' },
      ownerIds(db, user),
    );
    expect(plan.caseCount).toBe(1237 + 25);
    const body = [...plan.chunks(false)].join('');
    expect(body.match(/<case /g)).toHaveLength(1237 + 25);
    const perCase = Buffer.byteLength(body) / plan.caseCount;
    expect(perCase).toBeGreaterThan(550);
    expect(perCase).toBeLessThan(800);
  });

  it('is idempotent for the demo seed: a second start does not seed again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-seed-'));
    try {
      const a = createEmulator({ dataDir: dir });
      a.close();
      const b = createEmulator({ dataDir: dir });
      expect(b.db.prepare('SELECT COUNT(*) AS n FROM cases').get()).toEqual({ n: 50 });
      expect(b.db.prepare('SELECT COUNT(*) AS n FROM users').get()).toEqual({ n: 3 });
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('seedCases (npm start -- --seed-cases, fieldsim seed)', () => {
  it('seeds an empty data folder with the demo project, then N cases for the named worker', async () => {
    const { seedCases, SeedError } = await import('../../src/server/seed/seed-cases.ts');
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-seedcases-'));
    try {
      const r = seedCases({ dataDir: dir, cases: 40, user: 'worker2' });
      expect(r).toMatchObject({ username: 'worker2@demo.commcarehq.org', households: 10, members: 30 });
      expect(() => seedCases({ dataDir: dir, cases: 5, user: 'nobody' })).toThrow(SeedError);
      expect(() => seedCases({ dataDir: dir, cases: 0 })).toThrow(/positive/);
      const check = createEmulator({ dataDir: dir });
      expect(check.db.prepare('SELECT COUNT(*) AS n FROM cases').get()).toEqual({ n: 90 });
      check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
