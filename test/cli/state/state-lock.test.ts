import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateError } from '../../../src/cli/state/state-error.ts';
import { acquireLock } from '../../../src/cli/state/state-lock.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-lock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function holdInChild(lockPath: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, 'helpers/hold-lock.ts'), lockPath],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((res, rej) => {
    child.stdout?.once('data', () => res(child));
    child.once('exit', (code) => rej(new Error(`child exited ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res();
    else child.once('exit', () => res());
  });
}

describe('state lock', () => {
  it('refuses a second holder with state-in-use, naming the holder, until released', () => {
    const path = join(tmp, 'a.lock');
    const first = acquireLock(path, 'sync');
    let err: unknown;
    try {
      acquireLock(path, 'cases');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateError);
    expect(err).toMatchObject({ code: 'state-in-use', path });
    expect((err as Error).message).toContain(`sync, pid ${process.pid}`);
    first.release();
    expect(existsSync(path)).toBe(false);
    acquireLock(path, 'cases').release();
  });

  it('another live process holding it blocks us; once it is killed the stale lock is broken', async () => {
    const path = join(tmp, 'b.lock');
    const child = await holdInChild(path);
    try {
      expect(() => acquireLock(path, 'sync')).toThrow(/in use by another fieldsim command \(hold-lock/);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    // The file is still there (SIGKILL runs no cleanup), but its pid is gone.
    expect(existsSync(path)).toBe(true);
    const lock = acquireLock(path, 'sync');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, command: 'sync' });
    lock.release();
  }, 60_000);

  it('a command stopped by SIGTERM or SIGINT gives the lock back and dies of that signal', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const path = join(tmp, `sig-${signal}.lock`);
      const child = await holdInChild(path);
      expect(existsSync(path)).toBe(true);
      const gone = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_c, sig) => res(sig)));
      child.kill(signal);
      expect(await gone).toBe(signal);
      expect(existsSync(path)).toBe(false);
    }
  }, 60_000);

  it('an empty lock file (writer died before writing) counts as stale', () => {
    const path = join(tmp, 'c.lock');
    writeFileSync(path, '');
    acquireLock(path, 'sync').release();
    expect(existsSync(path)).toBe(false);
  });

  it('release does not remove a lock that is no longer ours', () => {
    const path = join(tmp, 'd.lock');
    const mine = acquireLock(path, 'sync');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', command: 'x', since: 'y' }));
    mine.release();
    expect(existsSync(path)).toBe(true);
    expect(() => acquireLock(path, 'sync')).toThrow(StateError);
  });
});
