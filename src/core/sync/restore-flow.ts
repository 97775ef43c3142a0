import { FieldsimError, isFieldsimError } from '../errors/fieldsim-error.ts';
import { HttpError } from '../errors/http-error.ts';
import { backoffDelay } from '../http/backoff.ts';
import type { HqClient } from '../http/hq-client.ts';
import { toError } from '../lib/to-error.ts';
import type { Clock } from '../platform.ts';
import type { CaseBlock } from '../protocol/casexml/case-types.ts';
import type { CaseDb } from '../store/case-db.ts';
import type { FieldsimDb } from '../store/fieldsim-db.ts';
import {
  type IngestOptions,
  type IngestResult,
  ingestRestore,
  resetCaseData as resetInThisThread,
} from '../store/restore-ingest.ts';
import { getSyncToken, setLastSync } from '../store/sync-state.ts';
import type { RestoreProgress, RestoreSummary } from './session-types.ts';

/**
 * The network side of restore and sync (PROTOCOL.md 3.4-3.6, issue 3):
 *
 *   request (full: no since; incremental: since + state=ccsh:<hash>)
 *     200 -> stream the body into the store (A's ingest: staged + one switch for full)
 *     202 -> report <progress done total>, wait Retry-After, ask again
 *     412 -> (incremental) fresh full restore, then ONE switch replacing cases, indices and
 *            ledgers, unsent forms' blocks re-applied; user, fixtures and outbox kept
 *            (and:…/DataPullTask.java handleBadLocalState / recover)
 *     429, 503 -> back off (Retry-After when sent; HQ's 429 has none) and try again a few
 *            times, then a `rate-limited` error
 *     401, 406 -> typed error (auth-invalid, user-deactivated with HQ's default_response)
 *     5xx, network -> typed error; the database is as it was (ingest is atomic)
 */

export interface RestoreFlowDeps {
  db: FieldsimDb;
  caseDb: CaseDb;
  client: HqClient;
  clock: Clock;
  random: () => number;
  userId: string;
  /** Case blocks of forms not yet delivered, for 412 recovery. */
  pendingBlocks: () => Promise<CaseBlock[]>;
  /** Best-effort per-form re-apply, when the blocks cannot all be carried into the switch. */
  reapplyEach: () => Promise<unknown>;
  /** Where full restores are loaded (default `resetCaseData` in this thread); see `FullIngest`. */
  fullIngest?: FullIngest;
}

/**
 * Loads a full restore body into `db` with `resetCaseData`'s contract (staged generation,
 * one switch, typed errors, old data intact on failure). The PWA runs it in a Web Worker
 * (src/app/restore-worker); the default runs it here.
 */
export type FullIngest = (
  db: FieldsimDb,
  body: ReadableStream<Uint8Array>,
  opts: Omit<IngestOptions, 'mode'>,
) => Promise<IngestResult>;

export interface RestoreFlowOptions {
  mode: 'full' | 'incremental';
  onProgress?: (p: RestoreProgress) => void;
  signal?: AbortSignal;
  /** Rate-limit retries before giving up (default 4). */
  maxRateLimitRetries?: number;
  /** Give up waiting on a 202 after this long (default 30 min). */
  maxAsyncWaitMs?: number;
  /**
   * `false` keeps every case the payload brought (no phone purge): for looking at what
   * the server sent (`fieldsim restore --no-purge`). Default true, as phones do.
   */
  purge?: boolean;
}

export interface RestoreFlowResult extends RestoreSummary {
  mode: 'full' | 'incremental' | 'recovered';
}

const RATE_BASE_MS = 2_000;
const RATE_MAX_MS = 60_000;

async function fetchBody(
  deps: RestoreFlowDeps,
  req: { since?: string; stateHash?: string },
  opts: RestoreFlowOptions,
): Promise<{ body: ReadableStream<Uint8Array>; bytesTotal?: number }> {
  const maxRetries = opts.maxRateLimitRetries ?? 4;
  const maxWait = opts.maxAsyncWaitMs ?? 30 * 60_000;
  const started = deps.clock.now();
  let rateFailures = 0;
  for (;;) {
    if (opts.signal?.aborted) throw new FieldsimError('aborted', 'The restore was cancelled');
    try {
      const res = await deps.client.restore({
        ...req,
        userId: deps.userId,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (res.status === 'ok')
        return res.bytesTotal === undefined
          ? { body: res.body }
          : { body: res.body, bytesTotal: res.bytesTotal };
      // 202: the server is still building the payload.
      if (deps.clock.now() - started > maxWait)
        throw new FieldsimError('timeout', 'The server did not finish preparing the restore in time');
      const p: RestoreProgress = { phase: 'waiting', bytes: 0, itemsDone: 0, casesWritten: 0 };
      if (res.progress) p.serverProgress = res.progress;
      opts.onProgress?.(p);
      await deps.clock.sleep(res.retryAfterMs, opts.signal);
    } catch (e) {
      if (e instanceof HttpError && e.code === 'rate-limited' && rateFailures < maxRetries) {
        rateFailures++;
        const wait = backoffDelay(
          rateFailures,
          { baseMs: RATE_BASE_MS, maxMs: RATE_MAX_MS },
          deps.random,
          e.retryAfterMs,
        );
        opts.onProgress?.({ phase: 'waiting', bytes: 0, itemsDone: 0, casesWritten: 0 });
        await deps.clock.sleep(wait, opts.signal);
        continue;
      }
      throw e;
    }
  }
}

function isCaseError(e: unknown): boolean {
  return isFieldsimError(e) && (e.code === 'case-not-found' || e.code === 'case-invalid');
}

/**
 * Any full restore (first login, a user's "full restore", 412 recovery) replaces the local
 * cases in one switch. Forms still in the outbox were applied locally when saved; their
 * case blocks are carried into the same switch so the worker keeps seeing them until the
 * server has them (DESIGN.md 3: unsent forms are never lost to a restore). The caller
 * holds the session's data lock, so no form can be saved between reading them and the
 * switch.
 */
async function freshRestore(
  deps: RestoreFlowDeps,
  opts: RestoreFlowOptions,
  ingestOpts: (bytesTotal?: number) => Omit<IngestOptions, 'mode'>,
): Promise<IngestResult> {
  const pending = await deps.pendingBlocks();
  const resetCaseData = deps.fullIngest ?? resetInThisThread;
  const first = await fetchBody(deps, {}, opts);
  try {
    return await resetCaseData(deps.db, first.body, {
      ...ingestOpts(first.bytesTotal),
      ...(pending.length > 0 ? { reapplyBlocks: pending } : {}),
    });
  } catch (e2) {
    if (!(pending.length > 0 && isCaseError(e2))) throw e2;
    // Some unsent form no longer applies to the fresh footprint: switch without them,
    // then re-apply form by form. The forms themselves stay queued and are still sent.
    const again = await fetchBody(deps, {}, opts);
    const result = await resetCaseData(deps.db, again.body, ingestOpts(again.bytesTotal));
    try {
      await deps.reapplyEach();
    } catch (e3) {
      throw new FieldsimError('storage-error', `Re-applying unsent forms failed: ${toError(e3).message}`, {
        cause: e3,
      });
    }
    return result;
  }
}

export async function runRestore(
  deps: RestoreFlowDeps,
  opts: RestoreFlowOptions,
): Promise<RestoreFlowResult> {
  const t0 = deps.clock.now();
  const token = opts.mode === 'incremental' ? await getSyncToken(deps.db) : null;
  const mode = token === null ? 'full' : 'incremental';
  const ingestOpts = (bytesTotal?: number) => ({
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(bytesTotal === undefined ? {} : { bytesTotal }),
    ...(opts.purge === false ? { purge: false } : {}),
  });
  let result: IngestResult;
  let outMode: RestoreFlowResult['mode'] = mode;
  if (token === null) {
    result = await freshRestore(deps, opts, ingestOpts);
  } else {
    try {
      const req = { since: token, stateHash: await deps.caseDb.caseStateHash() };
      const { body, bytesTotal } = await fetchBody(deps, req, opts);
      result = await ingestRestore(deps.db, body, { mode, ...ingestOpts(bytesTotal) });
    } catch (e) {
      // 412 on an incremental sync, or a cycle in the merged case graph: both are answered
      // with a fresh restore (PROTOCOL.md 3.4, 3.11).
      const recover =
        (e instanceof HttpError && e.code === 'restore-needed') ||
        (isFieldsimError(e) && e.code === 'invalid-case-graph');
      if (!recover) throw e;
      outMode = 'recovered';
      result = await freshRestore(deps, opts, ingestOpts);
    }
  }
  await setLastSync(deps.db, deps.clock.now());
  return {
    mode: outMode,
    syncToken: result.syncToken,
    cases: result.cases,
    purged: result.purged,
    durationMs: deps.clock.now() - t0,
    ...(outMode === 'incremental' && result.changes ? { changes: result.changes } : {}),
  };
}
