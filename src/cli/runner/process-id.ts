import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * Which OS process a run's timeline measured. A timeline's CPU and RSS are the whole
 * process's (process.cpuUsage and the RSS count every thread), so merging shards must add
 * them up across processes (`--processes`, `--shard` on several machines) but not across
 * worker threads of one process (`--threads`), where each shard measured the same figures.
 * Host, pid and the process's start time: a pid alone repeats across machines and reruns.
 */
export function currentProcessId(): string {
  return `${hostname()}:${process.pid}:${Math.round(performance.timeOrigin)}`;
}
