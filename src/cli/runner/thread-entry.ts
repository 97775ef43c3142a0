import { parentPort } from 'node:worker_threads';
import { RunSetupError, runScenario } from './engine.ts';
import { parseScenario, readScenario } from './parse-scenario.ts';
import { buildReport } from './report.ts';
import type { ParentMessage, ThreadMessage, ThreadRunInput } from './run-threads.ts';

/** One thread of `runInThreads`: runs its shard with the engine and posts the report. */

const port = parentPort;
if (port === null) throw new Error('thread-entry.ts runs only as a worker thread');
const ac = new AbortController();
const post = (m: ThreadMessage) => port.postMessage(m);

async function run(input: ThreadRunInput): Promise<void> {
  const parseOpts = input.durationMs === undefined ? {} : { durationMs: input.durationMs };
  let scenario =
    'file' in input.scenario
      ? readScenario(input.scenario.file, parseOpts)
      : parseScenario(input.scenario.text, parseOpts);
  if (input.seed !== undefined) scenario = { ...scenario, seed: input.seed };
  const outcome = await runScenario(scenario, {
    ...input.options,
    signal: ac.signal,
    log: (line) => post({ type: 'log', line }),
    onRunnerWarning: (warning) => post({ type: 'warning', warning }),
    onProgress: (progress) => post({ type: 'progress', progress }),
  });
  post({ type: 'report', report: buildReport(scenario, outcome) });
}

port.on('message', (m: ParentMessage) => {
  if (m.type === 'abort') ac.abort();
  else
    run(m.input).catch((e: unknown) => {
      if (e instanceof RunSetupError) post({ type: 'setup-error', message: e.message, exitCode: e.exitCode });
      else
        post({
          type: 'error',
          message: e instanceof Error ? (e.stack ?? e.message) : String(e),
        });
    });
});
