import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db } from '../db/database.ts';
import { ForwarderStore } from './forwarder-store.ts';
import { ForwardingEngine, type ForwardingOptions } from './forwarding-engine.ts';
import type { FromWorker, ToWorker } from './forwarding-worker.ts';
import { applyForwardingWrite } from './forwarding-writes.ts';

/** What the emulator and the API routes need from forwarding, wherever it runs. */
export interface Forwarding {
  readonly store: ForwarderStore;
  start(): void;
  /** Looks for work now (a forwarder was created, changed or deleted). */
  wake(forwarderId?: string): void;
  stop(): Promise<void>;
}

export interface ForwardingSetup extends Partial<ForwardingOptions> {
  /**
   * Run the engine in a worker thread (default) or on the emulator's own event loop.
   * In the emulator's loop each forwarded POST waits for a turn behind every request the
   * receiver has in flight, so under load forwarding fell behind (1 form forwarded per
   * ~30 received with 32 phones sending, bench/forwarding.bench.ts); HQ runs repeaters in
   * their own (celery) workers for the same reason.
   */
  thread?: boolean;
}

/**
 * Forwarding in a worker thread, started when the first forwarder exists (emulators
 * without forwarders, most tests among them, never pay for the thread).
 */
class ThreadedForwarding implements Forwarding {
  readonly store: ForwarderStore;
  readonly #dataDir: string;
  readonly #options: Partial<ForwardingOptions>;
  #worker: Worker | null = null;
  #started = false;

  constructor(db: Db, dataDir: string, options: Partial<ForwardingOptions>) {
    this.store = new ForwarderStore(db);
    this.#dataDir = dataDir;
    this.#options = options;
  }

  start(): void {
    this.#started = true;
    if (this.store.db.open && this.store.list().length > 0) this.#spawn();
  }

  wake(forwarderId?: string): void {
    if (!this.#started) return;
    if (!this.#worker) this.#spawn();
    this.#worker?.postMessage({ kind: 'wake', ...(forwarderId ? { forwarderId } : {}) } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    this.#started = false;
    const w = this.#worker;
    this.#worker = null;
    if (!w) return;
    const stopped = new Promise<void>((resolve) => {
      w.on('message', (m: FromWorker) => {
        if (m.kind === 'stopped') resolve();
      });
      w.once('exit', () => resolve());
    });
    w.postMessage({ kind: 'stop' } satisfies ToWorker);
    // Its last writes arrive while it stops (the emulator's close() does not wait: at
    // most one batch of deliveries is then sent again after a restart).
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000).unref())]);
    await w.terminate();
  }

  #spawn(): void {
    const worker = new Worker(workerEntry(), {
      workerData: { dataDir: this.#dataDir, options: this.#options },
    });
    const db = this.store.db;
    worker.on('message', (m: FromWorker) => {
      if (m.kind !== 'write') return;
      // Answered even when the database is already closed, so the thread never waits forever.
      applyForwardingWrite(db, m.write);
      worker.postMessage({ kind: 'written', id: m.id } satisfies ToWorker);
    });
    worker.on('error', (e) => console.error(`[fieldsim-hq] forwarding thread: ${e.stack ?? e.message}`));
    // The HTTP server keeps the process alive; the thread alone must not.
    worker.unref();
    this.#worker = worker;
  }
}

/**
 * The thread's entry. Compiled, the worker module itself; from TypeScript sources (tsx,
 * Vitest) a small bootstrap that registers tsx's loader inside the thread first: Node 20
 * does not carry the parent's module hooks into worker threads.
 */
function workerEntry(): URL {
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(`./forwarding-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  if (!ts) return entry;
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const esm = cjs.replace(/\.cjs$/, '.mjs');
  const api = pathToFileURL(existsSync(esm) ? esm : cjs).href;
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

/** The emulator's forwarding: a worker thread by default, or the engine on the caller's loop. */
export function createForwarding(db: Db, dataDir: string, setup: ForwardingSetup = {}): Forwarding {
  const { thread = true, ...options } = setup;
  return thread ? new ThreadedForwarding(db, dataDir, options) : new ForwardingEngine(db, options);
}
