import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { processTreeCpuMs } from './process-cpu.ts';

/**
 * Starts the emulator in its own Node process, as `npm start` runs it, on a free
 * loopback port with data in `dataDir`, so a benchmark's client does not share the
 * server's event loop. `stop()` ends it with SIGTERM and waits for the exit.
 */
export async function spawnEmulatorProcess(
  dataDir: string,
): Promise<{ url: string; pid: number; cpuMs(): number; stop(): Promise<void> }> {
  const repo = resolve(import.meta.dirname, '..');
  // BENCH_EMULATOR_CPU_PROF=<dir>: the emulator writes a V8 CPU profile there on exit
  // (NODE_OPTIONS refuses --cpu-prof).
  const prof = process.env.BENCH_EMULATOR_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      // Profiled: no tsx launcher in between, so the profile is the server's.
      ...(prof
        ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, '--import', 'tsx']
        : [join(repo, 'node_modules/tsx/dist/cli.mjs')]),
      join(repo, 'src/server/main.ts'),
      '--port',
      '0',
      '--data',
      dataDir,
    ],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /on (http:\/\/[\d.]+:\d+)\//.exec(out);
      if (m?.[1]) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`emulator exited with ${code}: ${out}`)));
  });
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    /** CPU time of the emulator (launcher and server) so far, for CPU-per-form figures. */
    cpuMs: () => processTreeCpuMs(pid),
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
