import { readdirSync, readFileSync } from 'node:fs';

/** Linux clock ticks per second for /proc CPU times (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SEC = 100;

function ownTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`))
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' '))
        if (c.trim() !== '') out.push(Number(c));
  } catch {
    // Gone, or no /proc (not Linux): counted as nothing.
  }
  return out;
}

/**
 * CPU milliseconds (user + system) used so far by a process and its live descendants,
 * from /proc: the emulator runs under tsx, whose launcher starts the real server as a
 * child, so the child's time is what matters. 0 where /proc is missing.
 */
export function processTreeCpuMs(pid: number): number {
  let ticks = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    ticks += ownTicks(p);
    stack.push(...children(p));
  }
  return (ticks * 1000) / TICKS_PER_SEC;
}
