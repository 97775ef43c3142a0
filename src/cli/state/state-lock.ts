import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { constants, hostname } from 'node:os';
import { dirname } from 'node:path';
import { fsyncDir } from './atomic-file.ts';
import { StateError } from './state-error.ts';

/**
 * An exclusive lock on one user's state folder across processes: a `lock` file created
 * with O_EXCL (`wx`), holding who took it. Two commands on the same state never
 * interleave their load-run-save cycles; the second one fails at once with
 * `state-in-use` instead of waiting, so a script sees the clash.
 *
 * A lock left by a killed command (its pid no longer runs on this host) is broken: the
 * file is renamed away (atomic) and its content compared with what was judged stale, so
 * two commands breaking the same stale lock cannot both end up holding a fresh one.
 */

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface HeldLock {
  readonly path: string;
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): { raw: string; owner: LockOwner | null } | null {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string')
      return {
        raw,
        owner: { pid: o.pid, host: o.host, command: String(o.command ?? '?'), since: String(o.since ?? '?') },
      };
  } catch {
    // An empty or half-written lock: its writer died between create and write.
  }
  return { raw, owner: null };
}

function isStale(owner: LockOwner | null): boolean {
  if (owner === null) return true;
  return owner.host === hostname() && owner.pid !== process.pid && !pidAlive(owner.pid);
}

/** Breaks the lock at `path` if it still holds exactly `raw`; false if someone else moved first. */
function breakStale(path: string, raw: string): boolean {
  const aside = `${path}.broken.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  let moved = '';
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    // Unreadable: treat as not ours to judge.
  }
  if (moved === raw) {
    rmSync(aside, { force: true });
    return true;
  }
  // We moved a live lock someone took after judging; put it back unless a third took the name.
  try {
    linkSync(aside, path);
  } catch {
    // EEXIST: the name is held again; the moved owner's release will find its file gone.
  }
  rmSync(aside, { force: true });
  return false;
}

const RELEASE_ON: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function acquireLock(path: string, command: string): HeldLock {
  const me: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  const body = JSON.stringify(me);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const cur = readOwner(path);
      if (cur === null) continue;
      if (isStale(cur.owner)) {
        breakStale(path, cur.raw);
        continue;
      }
      const o = cur.owner as LockOwner;
      throw new StateError(
        'state-in-use',
        `The state is in use by another fieldsim command (${o.command}, pid ${o.pid} on ${o.host}, since ${o.since}); ` +
          `wait for it to finish, or remove ${path} if that process is gone`,
        path,
      );
    }
    try {
      writeSync(fd, body);
    } finally {
      closeSync(fd);
    }
    fsyncDir(dirname(path));
    let released = false;
    // Ctrl-C or a CI job's SIGTERM: give the lock back, then die of the same signal. Signal
    // handlers run between event-loop turns, never inside a (synchronous) state write, so
    // the files are whole. Without this a killed command leaves a lock whose pid a
    // container may later reuse, which would read as "in use".
    const onSignal = (signal: NodeJS.Signals) => {
      held.release();
      process.kill(process.pid, signal);
      // Should another listener keep the signal from killing us, we must not run on
      // without the lock.
      setImmediate(() => process.exit(128 + (constants.signals[signal] ?? 0)));
    };
    for (const sig of RELEASE_ON) process.once(sig, onSignal);
    const held: HeldLock = {
      path,
      release() {
        if (released) return;
        released = true;
        for (const sig of RELEASE_ON) process.off(sig, onSignal);
        // Only remove the file if it is still ours (a breaker may have judged us stale).
        const cur = readOwner(path);
        if (cur?.raw === body) rmSync(path, { force: true });
      },
    };
    return held;
  }
  throw new StateError('state-in-use', `Could not take the state lock ${path}; try again`, path);
}
