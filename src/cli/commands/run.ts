import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { tightHeapGrowth } from '../../node-store/heap-growth.ts';
import { CliExit } from '../cli-exit.ts';
import { parseDuration } from '../runner/duration.ts';
import { adminNeeds, type RunProgress, RunSetupError, runScenario } from '../runner/engine.ts';
import { loadFakeIndexedDb } from '../runner/fake-idb-loader.ts';
import { toJunit } from '../runner/junit.ts';
import { readScenario, ScenarioError } from '../runner/parse-scenario.ts';
import { progressPrinter } from '../runner/progress.ts';
import { buildReport, formatSummary, type RunReport } from '../runner/report.ts';
import {
  type ChildMessage,
  ChildRunError,
  PROGRESS_IPC_ENV,
  runInProcesses,
} from '../runner/run-processes.ts';
import { autoThreads, runInThreads, ThreadRunError } from '../runner/run-threads.ts';
import { RUNNER_STORE_ENV, runnerStoreKind } from '../runner/worker-store.ts';
import { parseShard } from '../runner/workers-plan.ts';

/**
 * `fieldsim run <scenario.yaml>`: N simulated workers (each a real core Session with its
 * own in-memory IndexedDB) run the scenario's steps against a server (issue 7). Prints a
 * live progress line on stderr and a summary on stdout; `--report-json` and `--junit`
 * write the reports. Exit status: 0 when every assertion held and no step failed
 * unexpectedly, 1 otherwise, 2 for a bad scenario or bad flags.
 */

interface RunFlags {
  server?: string;
  workers?: string;
  seed?: string;
  duration?: string;
  reportJson?: string;
  junit?: string;
  shard?: string;
  password?: string;
  adminUser?: string;
  adminPassword?: string;
  adminApiKey?: string;
  maxInFlight?: string;
  maxRestores?: string;
  maxActive?: string;
  tightHeap?: boolean;
  processes?: string;
  threads?: string;
  progress: boolean;
}

/** bin/fieldsim.js, from src/cli/commands/ and from its compiled twin dist-cli/cli/commands/. */
const FIELDSIM_BIN = resolve(import.meta.dirname, '../../../bin/fieldsim.js');

function usage(message: string): never {
  console.error(`fieldsim run: ${message}`);
  throw new CliExit(2);
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a scenario with simulated workers and check the results')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('--server <url>', 'HQ or emulator base URL (default: the scenario server:)')
    .option('--workers <n>', 'number of workers (overrides workers.count)')
    .option('--seed <s>', 'random seed (overrides seed:)')
    .option('--duration <d>', 'how long `repeat: duration` loops run, e.g. 90s, 5m (overrides duration:)')
    .option('--report-json <file>', 'write the JSON report (format fieldsim-run-report, version 1)')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--shard <i/n>', 'run the i-th of n shares of the workers (1-based), e.g. 2/4')
    .option('--password <password>', 'password for workers the scenario gives none (env FIELDSIM_PASSWORD)')
    .option('--admin-user <username>', 'web user for the v0.5 APIs (env FIELDSIM_ADMIN_USER)')
    .option('--admin-password <password>', "that web user's password (env FIELDSIM_ADMIN_PASSWORD)")
    .option('--admin-api-key <key>', "that web user's API key (env FIELDSIM_ADMIN_API_KEY)")
    .option(
      '--max-in-flight <n>',
      'most HTTP requests awaiting headers at once, across workers (default 200)',
    )
    .option('--max-restores <n>', 'most workers in a restore step at once (default 100; 0: no limit)')
    .option(
      '--max-active <n>',
      'most workers running at once, for scenarios without a duration: the others wait their turn (default: 250 when there are more, per process; 0: no limit)',
    )
    .option(
      '--processes <n>',
      "spread the workers over n processes (shards merged into one report) to use more cores; 'auto': one per core",
    )
    .option(
      '--threads <n>',
      "run the workers in n threads of this process (shards merged into one report); 'auto' (default): one per core for runs of 200 workers or more",
    )
    .option(
      '--tight-heap',
      'hold the heap within 20% of its live data at each full collection: less memory, more CPU in collections',
    )
    .option('--no-progress', 'no live progress line on stderr')
    .action(async (file: string, flags: RunFlags) => {
      const env = process.env;
      // FIELDSIM_RUNNER_STORE: checked before any worker starts (worker-store.ts).
      try {
        // A store whose package is missing fails here, once, not in every worker.
        if (runnerStoreKind(env) === 'fake-indexeddb')
          await loadFakeIndexedDb(`${RUNNER_STORE_ENV}=fake-indexeddb`);
      } catch (e) {
        usage((e as Error).message);
      }
      let workers: number | undefined;
      if (flags.workers !== undefined) {
        workers = Number(flags.workers);
        if (!Number.isInteger(workers) || workers < 1)
          usage(`--workers must be a positive integer, got ${flags.workers}`);
      }
      let durationMs: number | undefined;
      if (flags.duration !== undefined) {
        const d = parseDuration(flags.duration);
        if (d === null) usage(`--duration must look like 30s, 5m or 500ms, got ${flags.duration}`);
        durationMs = d;
      }
      let maxInFlight: number | undefined;
      if (flags.maxInFlight !== undefined) {
        maxInFlight = Number(flags.maxInFlight);
        if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
          usage(`--max-in-flight must be a positive integer, got ${flags.maxInFlight}`);
      }
      let maxRestores: number | undefined;
      if (flags.maxRestores !== undefined) {
        maxRestores = Number(flags.maxRestores);
        if (!Number.isInteger(maxRestores) || maxRestores < 0)
          usage(`--max-restores must be 0 (no limit) or a positive integer, got ${flags.maxRestores}`);
      }
      let maxActive: number | undefined;
      if (flags.maxActive !== undefined) {
        maxActive = Number(flags.maxActive);
        if (!Number.isInteger(maxActive) || maxActive < 0)
          usage(`--max-active must be 0 (no limit) or a positive integer, got ${flags.maxActive}`);
      }
      const shard = flags.shard === undefined ? { index: 1, count: 1 } : parseShard(flags.shard);
      if (!shard) usage(`--shard must be i/n with 1 <= i <= n, got ${flags.shard}`);
      let processes = 1;
      if (flags.processes !== undefined) {
        processes = flags.processes === 'auto' ? availableParallelism() : Number(flags.processes);
        if (!Number.isInteger(processes) || processes < 1 || processes > 64)
          usage(`--processes must be 'auto' or an integer from 1 to 64, got ${flags.processes}`);
      }
      let threadsFlag: number | 'auto' = 'auto';
      if (flags.threads !== undefined && flags.threads !== 'auto') {
        threadsFlag = Number(flags.threads);
        if (!Number.isInteger(threadsFlag) || threadsFlag < 1 || threadsFlag > 64)
          usage(`--threads must be 'auto' or an integer from 1 to 64, got ${flags.threads}`);
      }
      let scenario: ReturnType<typeof readScenario>;
      try {
        scenario = readScenario(file, durationMs === undefined ? {} : { durationMs });
      } catch (e) {
        if (e instanceof ScenarioError) usage(e.message);
        throw e;
      }
      if (flags.seed !== undefined) scenario = { ...scenario, seed: flags.seed };
      const serverUrl = (flags.server ?? scenario.server ?? scenario.openrosa?.url)?.replace(/\/+$/, '');
      if (!serverUrl) usage('no server: pass --server URL or set server: in the scenario');
      if (!/^https?:\/\//.test(serverUrl)) usage(`--server must be an http(s) URL, got ${serverUrl}`);
      const adminUser = flags.adminUser ?? env.FIELDSIM_ADMIN_USER ?? scenario.admin?.username;
      const adminPassword = flags.adminPassword ?? env.FIELDSIM_ADMIN_PASSWORD ?? scenario.admin?.password;
      const adminApiKey = flags.adminApiKey ?? env.FIELDSIM_ADMIN_API_KEY ?? scenario.admin?.apiKey;
      const password = flags.password ?? env.FIELDSIM_PASSWORD;

      if (processes > 1) {
        const need = adminNeeds(scenario);
        if (need && (!adminUser || (adminPassword === undefined && adminApiKey === undefined)))
          usage(
            `this scenario needs admin (web user) credentials for ${need}: pass --admin-user with --admin-password or --admin-api-key, or set admin: in the scenario`,
          );
        let merged: RunReport;
        const ac = new AbortController();
        const onSigint = () => {
          if (ac.signal.aborted) process.exit(130);
          console.error('\nfieldsim run: interrupted; finishing the current steps (Ctrl-C again to quit)');
          ac.abort();
        };
        process.on('SIGINT', onSigint);
        try {
          merged = await runInProcesses({
            bin: FIELDSIM_BIN,
            args: [
              resolve(file),
              '--server',
              serverUrl,
              '--seed',
              scenario.seed,
              ...(workers === undefined ? [] : ['--workers', String(workers)]),
              ...(flags.duration === undefined ? [] : ['--duration', flags.duration]),
              ...(maxInFlight === undefined ? [] : ['--max-in-flight', String(maxInFlight)]),
              ...(maxRestores === undefined ? [] : ['--max-restores', String(maxRestores)]),
              ...(maxActive === undefined ? [] : ['--max-active', String(maxActive)]),
              ...(flags.tightHeap ? ['--tight-heap'] : []),
              ...(adminUser === undefined ? [] : ['--admin-user', adminUser]),
            ],
            env: {
              ...(password === undefined ? {} : { FIELDSIM_PASSWORD: password }),
              ...(adminPassword === undefined ? {} : { FIELDSIM_ADMIN_PASSWORD: adminPassword }),
              ...(adminApiKey === undefined ? {} : { FIELDSIM_ADMIN_API_KEY: adminApiKey }),
            },
            processes,
            shard,
            signal: ac.signal,
            onChildLine: (line) => console.error(line),
            ...(flags.progress ? { onProgress: progressPrinter(process.stderr) } : {}),
          });
        } catch (e) {
          if (e instanceof ChildRunError) {
            console.error(`fieldsim run: ${e.message}`);
            throw new CliExit(1);
          }
          throw e;
        } finally {
          process.off('SIGINT', onSigint);
        }
        if (flags.reportJson) writeFileSync(flags.reportJson, `${JSON.stringify(merged)}\n`);
        if (flags.junit) writeFileSync(flags.junit, toJunit(merged));
        console.log(formatSummary(merged));
        throw new CliExit(merged.exitCode);
      }

      // A child of `--processes`: progress goes to the parent, and the parent's end ends the run.
      const send = process.env[PROGRESS_IPC_ENV] === '1' ? process.send?.bind(process) : undefined;
      const ac = new AbortController();
      if (send) {
        process.channel?.unref();
        process.once('disconnect', () => ac.abort());
      }
      // First Ctrl-C: stop the workers after their current step and still write the
      // reports; a second one exits at once.
      const onSigint = () => {
        if (ac.signal.aborted) process.exit(130);
        console.error('\nfieldsim run: interrupted; finishing the current steps (Ctrl-C again to quit)');
        ac.abort();
      };
      process.on('SIGINT', onSigint);
      const options = {
        serverUrl,
        shard,
        ...(workers === undefined ? {} : { workers }),
        ...(maxInFlight === undefined ? {} : { maxInFlight }),
        ...(maxRestores === undefined ? {} : { maxRestores }),
        ...(maxActive === undefined ? {} : { maxActive }),
        ...(password === undefined ? {} : { password }),
        ...(adminUser
          ? {
              admin: {
                username: adminUser,
                ...(adminPassword === undefined ? {} : { password: adminPassword }),
                ...(adminApiKey === undefined ? {} : { apiKey: adminApiKey }),
              },
            }
          : {}),
      };
      const hooks = {
        signal: ac.signal,
        log: (line: string) => console.error(line),
        onRunnerWarning: (w: { message: string }) => console.error(`fieldsim run: warning: ${w.message}`),
        ...(send
          ? { onProgress: (p: RunProgress) => send({ type: 'progress', progress: p } satisfies ChildMessage) }
          : flags.progress
            ? { onProgress: progressPrinter(process.stderr) }
            : {}),
      };
      // V8's flags are the process's: every thread's heap follows (heap-growth.ts).
      if (flags.tightHeap) tightHeapGrowth(true);
      // A child of --processes is one share already; otherwise a big run uses every core.
      const threads =
        threadsFlag !== 'auto'
          ? threadsFlag
          : send
            ? 1
            : autoThreads(Math.ceil((workers ?? scenario.workers.count) / shard.count));
      try {
        const report =
          threads > 1
            ? await runInThreads(
                {
                  scenario: { file: resolve(file) },
                  ...(flags.seed === undefined ? {} : { seed: flags.seed }),
                  ...(durationMs === undefined ? {} : { durationMs }),
                  options,
                },
                { threads, ...hooks },
              )
            : buildReport(scenario, await runScenario(scenario, { ...options, ...hooks }));
        if (flags.reportJson) writeFileSync(flags.reportJson, `${JSON.stringify(report)}\n`);
        if (flags.junit) writeFileSync(flags.junit, toJunit(report));
        console.log(formatSummary(report));
        throw new CliExit(report.exitCode);
      } catch (e) {
        if (e instanceof RunSetupError) {
          console.error(`fieldsim run: ${e.message}`);
          throw new CliExit(e.exitCode);
        }
        if (e instanceof ThreadRunError) {
          console.error(`fieldsim run: ${e.message}`);
          throw new CliExit(1);
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
