/**
 * One budget for all request bodies the receiver holds in memory at once. Each upload
 * takes bytes from it as they arrive and gives them back once its form is stored; an
 * upload that finds the budget spent is answered 503 with Retry-After at once, so 16
 * parallel 150 MB uploads cannot grow the server by gigabytes (issue 16): memory stays
 * under the budget whatever the clients send, and the phone retries later as it does for
 * any 5xx.
 */

/** Thrown by `UploadLease.take` when the budget is spent. */
export class UploadBudgetError extends Error {
  override readonly name = 'UploadBudgetError';
  readonly code = 'upload-budget-spent';
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('The server is receiving too much data at once; retry later');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Default: above the largest submission one upload may send (10 MB of XML and ten 15 MB
 * attachments), so a lone upload of any legal size always fits.
 */
export const DEFAULT_UPLOAD_BUDGET_BYTES = 192 * 1024 * 1024;

export class UploadBudget {
  #used = 0;
  #peak = 0;
  readonly capacity: number;
  readonly retryAfterSeconds: number;
  constructor(capacity: number, retryAfterSeconds = 1) {
    this.capacity = capacity;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Bytes currently held by uploads in flight. */
  get used(): number {
    return this.#used;
  }

  /** The most ever held at once (for tests and benchmarks). */
  get peak(): number {
    return this.#peak;
  }

  lease(): UploadLease {
    return new UploadLease(this);
  }

  /** @internal used by UploadLease */
  grab(n: number): boolean {
    if (this.#used + n > this.capacity) return false;
    this.#used += n;
    if (this.#used > this.#peak) this.#peak = this.#used;
    return true;
  }

  /** @internal used by UploadLease */
  giveBack(n: number): void {
    this.#used -= n;
  }
}

/** What one request holds; `release()` is idempotent. */
export class UploadLease {
  #held = 0;
  readonly budget: UploadBudget;
  constructor(budget: UploadBudget) {
    this.budget = budget;
  }

  get held(): number {
    return this.#held;
  }

  take(n: number): void {
    if (!this.budget.grab(n)) throw new UploadBudgetError(this.budget.retryAfterSeconds);
    this.#held += n;
  }

  release(): void {
    this.budget.giveBack(this.#held);
    this.#held = 0;
  }
}

const budgets = new WeakMap<object, UploadBudget>();

/** The budget of one emulator instance (keyed by its shared state object). */
export function uploadBudgetOf(owner: object, capacity = DEFAULT_UPLOAD_BUDGET_BYTES): UploadBudget {
  let b = budgets.get(owner);
  if (!b) {
    b = new UploadBudget(capacity);
    budgets.set(owner, b);
  }
  return b;
}

/**
 * `FIELDSIM_UPLOAD_BUDGET_MB` as an emulator setting; an unset or invalid value keeps the
 * default (the variable is a tuning knob, not a contract a typo should break startup for).
 */
export function uploadBudgetSetting(mb: string | undefined): { uploadBudgetBytes?: number } {
  const n = Number(mb);
  return mb && Number.isFinite(n) && n > 0 ? { uploadBudgetBytes: Math.round(n * 1024 * 1024) } : {};
}
