import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunProgress } from './engine.ts';
import { checkReport, mergeReports, type RunReport } from './report.ts';
import type { Shard } from './workers-plan.ts';

/**
 * `fieldsim run --processes N`: one run spread over N child processes, so a load that
 * saturates one thread uses the machine's other cores. Each child is a `fieldsim run` of
 * one shard; the parent shows their combined progress and merges their reports exactly as
 * `fieldsim report merge` does, so a run over N processes reports like one run.
 *
 * Shard arithmetic: process j (1-based) of P inside shard i/n runs shard
 * (i + n(j-1))/(nP). A worker k belongs to shard ((k-1) mod nP) + 1; its residue mod n is
 * still i-1, so the processes split shard i and nothing else, and keep every worker's
 * number and random streams.
 */

export function subShard(shard: Shard, processes: number, j: number): Shard {
  return { index: shard.index + shard.count * (j - 1), count: shard.count * processes };
}

/** What a child sends its parent over the IPC channel. */
export type ChildMessage = { type: 'progress'; progress: RunProgress };

/** Set in a child's environment: report progress over IPC instead of stderr. */
export const PROGRESS_IPC_ENV = 'FIELDSIM_RUN_PROGRESS_IPC';

export interface ProcessesOptions {
  /** The CLI entry to fork (bin/fieldsim.js). */
  bin: string;
  /** `run` arguments shared by every child (scenario file and flags, without shard/report/progress flags). */
  args: string[];
  /** Secrets go to children through their environment, never their command line (ps). */
  env: Record<string, string>;
  processes: number;
  shard: Shard;
  onProgress?: (p: RunProgress) => void;
  progressMs?: number;
  /** A child's stderr line (warnings, setup messages), already prefixed with its process. */
  onChildLine?: (line: string) => void;
  signal?: AbortSignal;
}

export class ChildRunError extends Error {
  override readonly name = 'ChildRunError';
}

export function sumProgress(parts: RunProgress[], elapsedMs: number, done: boolean): RunProgress {
  const sum = (f: (p: RunProgress) => number) => parts.reduce((n, p) => n + f(p), 0);
  const withRates = parts.filter((p) => p.formsPerSec !== undefined);
  return {
    elapsedMs,
    planned: sum((p) => p.planned),
    active: sum((p) => p.active),
    finished: sum((p) => p.finished),
    stepsDone: sum((p) => p.stepsDone),
    errors: sum((p) => p.errors),
    unexpectedErrors: sum((p) => p.unexpectedErrors),
    ...(withRates.length > 0
      ? {
          formsPerSec: Math.round(withRates.reduce((n, p) => n + (p.formsPerSec ?? 0), 0) * 10) / 10,
          requestsPerSec: Math.round(withRates.reduce((n, p) => n + (p.requestsPerSec ?? 0), 0) * 10) / 10,
        }
      : {}),
    done,
  };
}

function relayLines(child: ChildProcess, prefix: string, onLine: (line: string) => void): void {
  let buf = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== '') onLine(`${prefix} ${line}`);
      nl = buf.indexOf('\n');
    }
  });
  child.stderr?.on('end', () => {
    if (buf.trim() !== '') onLine(`${prefix} ${buf}`);
  });
  // A child's summary is replaced by the merged one; drain it so the child never blocks.
  child.stdout?.resume();
}

/** Runs the children, waits for all of them, and merges their reports. */
export async function runInProcesses(opts: ProcessesOptions): Promise<RunReport> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldsim-run-'));
  const started = Date.now();
  const latest = new Map<number, RunProgress>();
  const children: ChildProcess[] = [];
  const exits: Promise<{ j: number; code: number | null; signal: NodeJS.Signals | null }>[] = [];
  try {
    for (let j = 1; j <= opts.processes; j++) {
      const s = subShard(opts.shard, opts.processes, j);
      const label = `[process ${j}/${opts.processes}, shard ${s.index}/${s.count}]`;
      const child = fork(
        opts.bin,
        [
          'run',
          ...opts.args,
          '--shard',
          `${s.index}/${s.count}`,
          '--report-json',
          join(dir, `${j}.json`),
          '--no-progress',
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          env: { ...process.env, ...opts.env, [PROGRESS_IPC_ENV]: '1' },
          // Its own process group: a Ctrl-C reaches the children once, through the parent,
          // so each finishes its current steps and writes its report (a second one would
          // make it quit at once).
          detached: true,
        },
      );
      children.push(child);
      child.on('message', (m: ChildMessage) => {
        if (m?.type === 'progress') latest.set(j, m.progress);
      });
      if (opts.onChildLine) relayLines(child, label, opts.onChildLine);
      else {
        child.stderr?.resume();
        child.stdout?.resume();
      }
      exits.push(
        new Promise((resolve) => {
          child.on('exit', (code, signal) => resolve({ j, code, signal }));
          child.on('error', () => resolve({ j, code: null, signal: null }));
        }),
      );
    }
    const interrupt = () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
    };
    opts.signal?.addEventListener('abort', interrupt, { once: true });
    const tick = () => opts.onProgress?.(sumProgress([...latest.values()], Date.now() - started, false));
    const timer = opts.onProgress ? setInterval(tick, opts.progressMs ?? 1000) : null;
    let results: Awaited<(typeof exits)[number]>[];
    try {
      results = await Promise.all(exits);
    } finally {
      if (timer) clearInterval(timer);
      opts.signal?.removeEventListener('abort', interrupt);
    }
    opts.onProgress?.(sumProgress([...latest.values()], Date.now() - started, true));
    const reports: RunReport[] = [];
    for (const r of results) {
      const file = join(dir, `${r.j}.json`);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        throw new ChildRunError(
          `process ${r.j} of ${opts.processes} ended (${r.signal ?? `exit ${r.code}`}) without writing its report`,
        );
      }
      reports.push(checkReport(raw, `process ${r.j}`));
    }
    return mergeReports(reports);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
