import { vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

export interface InProcessRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fieldsim ARGS` inside this process (the tests' own emulator keeps answering
 * because the CLI awaits its requests), capturing what it writes. Faster than a child
 * process; for exits and signals use runCli (run-cli.ts).
 */
export async function cliInProcess(args: string[]): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  try {
    const status = await main(['node', 'fieldsim', ...args]);
    return { status, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

export interface JsonRun {
  status: number;
  /** The command's `--json` output; `{}` when it printed none (commander's usage errors). */
  out: Record<string, unknown>;
  stderr: string;
}

/** `cliInProcess` of a command run with `--json`, its output parsed. */
export async function cliJsonInProcess(args: string[]): Promise<JsonRun> {
  const r = await cliInProcess(args);
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // usage errors print text only
  }
  return { status: r.status, out, stderr: r.stderr };
}
