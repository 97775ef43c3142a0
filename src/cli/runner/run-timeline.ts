import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

/**
 * Figures over time for a run, one sample per interval: throughput (forms accepted and
 * requests answered per second) and the runner's own health (event-loop delay, how busy
 * its thread was, CPU, resident memory).
 *
 * A load generator that is itself saturated reports its own queueing as server latency:
 * measured side by side with Locust, a run whose thread was 87% busy showed a p95 of
 * 509 ms for a server answering in 46 ms. So each interval where the event loop lags or
 * the thread is nearly always busy raises a warning that the summary and the JSON report
 * carry, and the live progress shows it as it happens.
 */

export interface TimelineSample {
  /** End of the interval, in ms since the run started. */
  tMs: number;
  /** Forms the server accepted (201 from the receiver) during the interval. */
  forms: number;
  /** HTTP requests answered or failed during the interval. */
  requests: number;
  formsPerSec: number;
  requestsPerSec: number;
  /** Event-loop delay over the interval (what every timer and response waited extra). */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  /** Share of the interval the runner's main thread was busy (event-loop utilisation), 0-100. */
  loopBusyPct: number;
  /** Process CPU (user + system, all threads) as a share of one core, 0-100 per core. */
  cpuPct: number;
  rssMb: number;
}

/** A run's timeline as the report carries it. */
export interface TimelineJson {
  intervalMs: number;
  samples: TimelineSample[];
  /**
   * The OS processes whose CPU and RSS the samples measured (process-id.ts): one for a
   * run, several after merging reports of several processes. Absent in reports written
   * before session 7: each such report counts as a process of its own.
   */
  processes?: string[];
}

export interface RunnerWarning {
  tMs: number;
  message: string;
}

/** What the timeline reads from the run's metrics at each tick. */
export interface TimelineCounters {
  readonly formsAccepted: number;
  readonly requestCount: number;
}

/** Above these, the runner's own figures are suspect (latencies include its own queueing). */
export const LAG_WARN_MS = 200;
export const BUSY_WARN_PCT = 90;
/** At most one warning per this many ms, so a saturated long run does not flood stderr. */
const WARN_EVERY_MS = 30_000;

const round1 = (x: number) => Math.round(x * 10) / 10;

export class RunTimeline {
  readonly samples: TimelineSample[] = [];
  readonly warnings: RunnerWarning[] = [];
  readonly #counters: TimelineCounters;
  readonly #intervalMs: number;
  readonly #onWarning: ((w: RunnerWarning) => void) | undefined;
  readonly #delay: IntervalHistogram;
  #timer: ReturnType<typeof setInterval> | null = null;
  #t0 = 0;
  #lastT = 0;
  #lastForms = 0;
  #lastRequests = 0;
  #lastCpu = process.cpuUsage();
  #lastElu = performance.eventLoopUtilization();
  #lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    counters: TimelineCounters,
    opts: { intervalMs?: number; onWarning?: (w: RunnerWarning) => void } = {},
  ) {
    this.#counters = counters;
    this.#intervalMs = opts.intervalMs ?? 5000;
    this.#onWarning = opts.onWarning;
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
  }

  start(): void {
    this.#t0 = performance.now();
    this.#lastT = this.#t0;
    this.#lastForms = this.#counters.formsAccepted;
    this.#lastRequests = this.#counters.requestCount;
    this.#lastCpu = process.cpuUsage();
    this.#lastElu = performance.eventLoopUtilization();
    this.#delay.enable();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Closes the current interval (called by the timer, and once more by `stop`). */
  sample(): TimelineSample | null {
    const now = performance.now();
    const wallMs = now - this.#lastT;
    if (wallMs < 1) return null;
    const forms = this.#counters.formsAccepted - this.#lastForms;
    const requests = this.#counters.requestCount - this.#lastRequests;
    const cpu = process.cpuUsage(this.#lastCpu);
    const elu = performance.eventLoopUtilization(this.#lastElu);
    const s: TimelineSample = {
      tMs: Math.round(now - this.#t0),
      forms,
      requests,
      formsPerSec: round1((forms * 1000) / wallMs),
      requestsPerSec: round1((requests * 1000) / wallMs),
      loopLagP99Ms: round1(this.#delay.count > 0 ? this.#delay.percentile(99) / 1e6 : 0),
      loopLagMaxMs: round1(this.#delay.count > 0 ? this.#delay.max / 1e6 : 0),
      loopBusyPct: round1(elu.utilization * 100),
      cpuPct: round1(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
      rssMb: round1(process.memoryUsage.rss() / 1048576),
    };
    this.samples.push(s);
    this.#lastT = now;
    this.#lastForms += forms;
    this.#lastRequests += requests;
    this.#lastCpu = process.cpuUsage();
    this.#lastElu = performance.eventLoopUtilization();
    this.#delay.reset();
    this.#checkSaturation(s);
    return s;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.sample();
    this.#delay.disable();
  }

  #checkSaturation(s: TimelineSample): void {
    const lagging = s.loopLagP99Ms > LAG_WARN_MS;
    const busy = s.loopBusyPct > BUSY_WARN_PCT;
    if (!lagging && !busy) return;
    if (s.tMs - this.#lastWarnAt < WARN_EVERY_MS) return;
    this.#lastWarnAt = s.tMs;
    const why = [
      lagging ? `event-loop delay p99 ${s.loopLagP99Ms} ms` : null,
      busy ? `its thread ${s.loopBusyPct}% busy` : null,
    ]
      .filter((x) => x !== null)
      .join(', ');
    const w: RunnerWarning = {
      tMs: s.tMs,
      message:
        `the runner itself is saturated (${why}): latencies include its own queueing, not only the server's. ` +
        'Spread the workers over more processes (--processes N, or --shard i/n) to measure the server.',
    };
    this.warnings.push(w);
    this.#onWarning?.(w);
  }
}
