import type { Db } from '../db/database.ts';
import { inTransaction } from '../db/db-handle.ts';
import type { FormProcessor, SubmissionInput, SubmissionOutcome } from './submit.ts';

interface Pending {
  input: SubmissionInput;
  resolve(o: SubmissionOutcome): void;
  reject(e: unknown): void;
}

/**
 * Group commit for the receiver: submissions that arrive while the event loop is busy
 * are processed together in one SQLite transaction, each form in its own savepoint (a
 * form that fails rolls back alone, exactly as with a transaction of its own), and
 * answered once the shared COMMIT is done. The commit (WAL append, checkpoints) was the
 * largest single cost per form in the receiver's profile; with 8 clients it is now paid
 * once per batch. A lone client sees a batch of one: the same work as before.
 */
export class GroupCommit {
  readonly #db: Db;
  readonly #processor: FormProcessor;
  #queue: Pending[] = [];
  #scheduled = false;
  /** Sizes of the batches committed so far (count, most), for benchmarks. */
  batches = 0;
  largestBatch = 0;

  constructor(db: Db, processor: FormProcessor) {
    this.#db = db;
    this.#processor = processor;
  }

  submit(input: SubmissionInput): Promise<SubmissionOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the I/O phase: every request whose body completed in it joins the batch.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    this.batches++;
    if (batch.length > this.largestBatch) this.largestBatch = batch.length;
    const results: ({ ok: true; outcome: SubmissionOutcome } | { ok: false; error: unknown })[] = [];
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only) {
      // A lone form (one client, the ordered drain) needs no savepoint of its own: its
      // failure rolls back the transaction it is alone in, with the same outcome.
      let outcome: SubmissionOutcome;
      try {
        outcome = inTransaction(this.#db, () => this.#processor.submit(only.input));
      } catch (error) {
        only.reject(error);
        return;
      }
      only.resolve(outcome);
      return;
    }
    try {
      inTransaction(this.#db, () => {
        for (const p of batch) {
          try {
            // Nested: a savepoint, released into the batch or rolled back alone.
            const outcome = inTransaction(this.#db, () => this.#processor.submit(p.input));
            results.push({ ok: true, outcome });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.outcome);
      else p.reject(r.error);
    });
  }
}

const byProcessor = new WeakMap<FormProcessor, GroupCommit>();

/** The group commit of one emulator instance (one per processor). */
export function groupCommitOf(db: Db, processor: FormProcessor): GroupCommit {
  let g = byProcessor.get(processor);
  if (!g) {
    g = new GroupCommit(db, processor);
    byProcessor.set(processor, g);
  }
  return g;
}
