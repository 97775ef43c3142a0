import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The real CLI entry (bin/fieldsim.js, what `npx fieldsim` runs). */
export const FIELDSIM_BIN = resolve(import.meta.dirname, '../../bin/fieldsim.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fieldsim ARGS` in a child process without blocking this one, so an emulator
 * started in this process keeps answering while the CLI talks to it.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<CliRun> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [...nodeArgs, FIELDSIM_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('error', rej);
    child.once('close', (status) => res({ status, stdout, stderr }));
  });
}
