import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ProcessUsage {
  /** User + system CPU time of the process so far, ms. */
  cpuMs: number;
  /** Resident set size now, MB. */
  rssMb: number;
  /** Highest resident set size so far (VmHWM), MB. */
  peakRssMb: number;
}

export interface SpawnedEmulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  pid: number;
  dataDir: string;
  /** CPU and memory of the emulator process, read from /proc (Linux). */
  usage(): ProcessUsage;
  /** Stops it with SIGTERM, waits for the exit, removes a temp data folder it made. */
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100; // USER_HZ: the unit of /proc/<pid>/stat times on Linux

function usageOf(pid: number): ProcessUsage {
  // Fields after the command name (which may contain spaces, hence the last ')').
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    cpuMs: (ticks * 1000) / CLOCK_TICKS,
    rssMb: kb('VmRSS') / 1024,
    peakRssMb: kb('VmHWM') / 1024,
  };
}

/**
 * Starts the HQ emulator in its own Node process, as `npm start` runs it (seeded demo
 * project, 127.0.0.1, a free port), so a test can measure the server's own CPU time and
 * RSS while its client runs in the test process. `env` adds environment variables
 * (e.g. FIELDSIM_UPLOAD_BUDGET_MB); `args` adds flags of src/server/main.ts.
 */
export async function spawnEmulator(
  opts: { dataDir?: string; env?: Record<string, string>; args?: string[] } = {},
): Promise<SpawnedEmulator> {
  const repo = resolve(import.meta.dirname, '../..');
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fieldsim-hq-proc-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // `--import tsx` rather than tsx's CLI, which would run the server in a grandchild.
      '--import',
      'tsx',
      join(repo, 'src/server/main.ts'),
      '--port',
      '0',
      '--data',
      dataDir,
      ...(opts.args ?? []),
    ],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const onExit = (code: number | null) => fail(new Error(`emulator exited with ${code}: ${out}${stderr}`));
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /on (http:\/\/[\d.]+:\d+)\//.exec(out);
      if (m?.[1]) {
        child.off('exit', onExit);
        ok(m[1]);
      }
    });
    child.once('exit', onExit);
  });
  // Keep reading its output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  const pid = child.pid!;
  return {
    url,
    pid,
    dataDir,
    usage: () => usageOf(pid),
    stop: () =>
      new Promise<void>((done) => {
        const finish = () => {
          if (own) rmSync(dataDir, { recursive: true, force: true });
          done();
        };
        if (child.exitCode !== null) return finish();
        // A server stuck on open connections is killed after a grace period.
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          finish();
        });
        child.kill('SIGTERM');
      }),
  };
}
