import type { RunMetrics, WorkerResult } from './metrics.ts';

/** A worker's steps were cut short by the run (its duration or a stop): not a failure. */
export class WorkerStopped extends Error {
  override readonly name = 'WorkerStopped';
}

/** What a kind of worker (CommCare phone, OpenRosa collector) brings to its run. */
export interface WorkerBody {
  runSteps(): Promise<void>;
  /** Forms the worker's outbox sent; undefined when it never opened one. */
  sentCount(): Promise<number> | undefined;
  /** Closes the worker's database and sessions. */
  close(): void;
  outcome(): Pick<WorkerResult, 'ok' | 'stepsRun' | 'errors' | 'failures'>;
}

/**
 * One worker's run, the same for every kind: counted active while it runs, its steps
 * until done or stopped, its sent forms read before its database closes, its result.
 */
export async function runWorkerLifecycle(
  metrics: RunMetrics,
  spec: { number: number; username: string },
  body: WorkerBody,
): Promise<WorkerResult> {
  const started = Date.now();
  metrics.active++;
  let status: WorkerResult['status'] = 'completed';
  try {
    await body.runSteps();
  } catch (e) {
    if (!(e instanceof WorkerStopped)) throw e;
    status = 'stopped';
  }
  let formsSent = 0;
  try {
    formsSent = (await body.sentCount()) ?? 0;
  } catch {
    // A closed or broken database: the failures recorded by the steps already say why.
  }
  body.close();
  metrics.active--;
  metrics.finished++;
  return {
    worker: spec.number,
    user: spec.username,
    ...body.outcome(),
    status,
    formsSent,
    startedAtMs: started,
    durationMs: Date.now() - started,
  };
}
