import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, multipart } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('data folder', () => {
  it('seeds an empty folder once and keeps submitted data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fieldsim-persist-'));
    dirs.push(dataDir);
    const first = await startEmulator({ dataDir });
    const count = () => (first.app.db.prepare('SELECT COUNT(*) AS n FROM cases').get() as { n: number }).n;
    expect(count()).toBe(50);
    const form = caseForm({
      instanceId: 'persist-form',
      caseId: 'persist-case',
      body: '<create><case_type>household</case_type><case_name>Kept</case_name></create>',
    });
    const res = await fetch(`${first.url}/a/demo/receiver/`, {
      method: 'POST',
      body: multipart(form),
      headers: { authorization: basic('worker2') },
    });
    expect(res.status).toBe(201);
    const userIds = first.app.db.prepare('SELECT id FROM users ORDER BY id').all();
    await first.close();

    const second = await startEmulator({ dataDir });
    try {
      const db = second.app.db;
      expect((db.prepare('SELECT COUNT(*) AS n FROM cases').get() as { n: number }).n).toBe(51);
      expect(db.prepare('SELECT id FROM users ORDER BY id').all()).toEqual(userIds);
      expect(second.app.hq.processor.cases.get('persist-case')?.name).toBe('Kept');
      // Passwords are stored as verifiers, never in clear.
      const hashes = db.prepare('SELECT password_hash FROM users').all() as { password_hash: string }[];
      for (const h of hashes) {
        expect(h.password_hash).toMatch(/^pbkdf2_sha256\$\d+\$/);
        expect(h.password_hash).not.toContain('fieldsim');
      }
      const sso = await fetch(`${second.url}/a/demo/api/v0.5/sso/`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'worker2', password: 'fieldsim' }),
      });
      expect(sso.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('removes its temp folder on close when it made one', async () => {
    const emu = await startEmulator();
    const dir = emu.app.dataDir;
    await emu.close();
    const { existsSync } = await import('node:fs');
    expect(existsSync(dir)).toBe(false);
  });
});
