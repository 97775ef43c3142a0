import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * Starts the emulator in its own Node process, as `npm start` runs it, on a free
 * loopback port with data in `dataDir`, so a benchmark's client does not share the
 * server's event loop. `stop()` ends it with SIGTERM and waits for the exit.
 */
export async function spawnEmulatorProcess(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const repo = resolve(import.meta.dirname, '..');
  const child = spawn(
    process.execPath,
    [
      join(repo, 'node_modules/tsx/dist/cli.mjs'),
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
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
