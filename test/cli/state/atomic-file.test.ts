import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/cli/state/atomic-file.ts';
import { StateStore } from '../../../src/cli/state/state-store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-atomic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function isWhole(buf: Buffer): boolean {
  if (buf.length === 8 * 1024 * 1024) return buf.every((c) => c === 0x61);
  if (buf.length === 6 * 1024 * 1024) return buf.every((c) => c === 0x62);
  return false;
}

describe('atomic state writes', () => {
  it('replaces the file whole, mode 0600, leaving no temp file', () => {
    const p = join(tmp, 'x.json');
    writeFileSync(p, 'old contents that are longer than the new ones');
    writeFileAtomic(p, '{"new":1}');
    expect(readFileSync(p, 'utf8')).toBe('{"new":1}');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp)).toEqual(['x.json']);
  });

  it('a process killed mid-write leaves the old or the new file, never a mix', async () => {
    const dir = mkdtempSync(join(tmp, 'kill-'));
    const target = join(dir, 'db.snapshot');
    for (let round = 0; round < 2; round++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', resolve(import.meta.dirname, 'helpers/write-loop.ts'), target],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((res) => child.stdout.once('data', () => res()));
      await new Promise((r) => setTimeout(r, 150 + round * 70));
      child.kill('SIGKILL');
      await new Promise<void>((res) => child.once('exit', () => res()));
      expect(isWhole(readFileSync(target))).toBe(true);
    }
    // Opening the user folder (under its lock) sweeps temp files of killed writes.
    const store = new StateStore(join(tmp, 'store'));
    const id = { server: 'http://h:1', domain: 'd', username: 'u@d.commcarehq.org' };
    const udir = store.userDir(id);
    store.open(id, 'x').release();
    writeFileSync(join(udir, '.db.snapshot.123.abcd.tmp'), 'partial');
    const u = store.open(id, 'y');
    u.release();
    expect(readdirSync(udir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 90_000);
});
