/**
 * The narrow I/O the core needs, injected by the host (PWA, CLI, tests). Nothing in core
 * reaches for globals such as `navigator` or `window`.
 */

import type { Dexie } from 'dexie';
import type { RecordAead } from './crypto/record-aead.ts';
import type { RestoreBody, RestoreParseOptions } from './protocol/restore/restore-parser.ts';
import type { RestoreEvent } from './protocol/restore/restore-types.ts';

/**
 * A parser of full restores with `parseRestore`'s contract (same batches, typed errors),
 * run elsewhere: Node parses in a worker thread while the main thread writes
 * (src/node-store/restore-parse-thread.ts). It may also apply a case's first block itself
 * (`case-applied` events), which is right only because a full restore writes into a new,
 * empty generation.
 */
export type RestoreParserFn = (
  body: RestoreBody,
  opts: RestoreParseOptions,
  staged?: StagedTarget,
) => AsyncIterable<RestoreEvent[]>;

/**
 * Given to a host parser by a full restore into a plain (unencrypted) database: the
 * staged generation, empty when parsing starts. The parser may then pack whole pages of
 * new cases itself (`case-page` events, store/packed-pages.ts describes the contract).
 */
export interface StagedTarget {
  gen: number;
}

/** The subset of `fetch` the core uses. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface IndexedDbDeps {
  indexedDB: IDBFactory;
  IDBKeyRange: typeof IDBKeyRange;
  /**
   * Another storage engine under Dexie (SQLite in Node, src/node-store): installed into
   * every database opened with these deps, it takes over every table request. Without
   * it, the data lives in `indexedDB`.
   */
  backend?: DexieBackend;
  /**
   * A synchronous AES-GCM for encrypted records (Node: node:crypto, see
   * src/node-store/node-record-aead.ts); WebCrypto without it. Same records either way.
   */
  recordAead?: RecordAead;
  /** Parses full restores (store/restore-ingest.ts); `parseRestore` in this thread without it. */
  restoreParser?: RestoreParserFn;
}

/** A storage engine that plugs into a Dexie database (as its lowest DBCore middleware). */
export interface DexieBackend {
  install(db: Dexie): void;
  /**
   * Optional. A full restore writes its cases as a staged generation nobody reads until
   * one switch transaction makes it live (store/restore-ingest.ts), so those writes need
   * not reach the disk one commit at a time: the switch's commit makes them durable
   * together. `on` is counted (nested calls); crash safety is unchanged, since a staged
   * generation that did not survive is never pointed to.
   */
  stagedWrites?(on: boolean): void;
}

/** Runs `fn` while holding an exclusive named lock (Web Locks in browsers). */
export type LockFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
};

/** A lock that only serialises callers inside this one JS realm (Node, CLI, tests). */
export function createInProcessLock(): LockFn {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(name, settled);
    try {
      return await run;
    } finally {
      if (tails.get(name) === settled) tails.delete(name);
    }
  };
}
