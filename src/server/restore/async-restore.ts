import type { RestorePlan } from './generate.ts';

/**
 * Async restores (PROTOCOL.md 3.5): a large restore first answers 202 with `<progress>`
 * and `Retry-After`; later requests with the same (user, since, device) get progress until
 * the task is done, then the payload. As HQ caches async results, the payload (and its
 * sync log) is the one planned by the first request.
 */
export interface AsyncTask {
  plan: RestorePlan;
  polls: number;
  total: number;
  createdAt: number;
}

export class AsyncRestores {
  readonly #tasks = new Map<string, AsyncTask>();

  static key(userId: string, since: string, deviceId: string): string {
    return `${userId}|${since}|${deviceId}`;
  }

  get(key: string): AsyncTask | undefined {
    return this.#tasks.get(key);
  }

  start(key: string, plan: RestorePlan): AsyncTask {
    // Tasks nobody came back for are dropped after ten minutes, so memory stays bounded.
    const cutoff = Date.now() - 10 * 60_000;
    for (const [k, t] of this.#tasks) if (t.createdAt < cutoff) this.#tasks.delete(k);
    const task: AsyncTask = { plan, polls: 0, total: plan.caseCount, createdAt: Date.now() };
    this.#tasks.set(key, task);
    return task;
  }

  finish(key: string): void {
    this.#tasks.delete(key);
  }

  /** A form from the user invalidates their cached restores (`_invalidate_caches`). */
  invalidateUser(userId: string): void {
    for (const k of this.#tasks.keys()) if (k.startsWith(`${userId}|`)) this.#tasks.delete(k);
  }
}
