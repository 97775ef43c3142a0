import { HttpError } from '../../core/errors/http-error.ts';
import { Prng } from '../../core/lib/prng.ts';
import type { ArrivalSpec, Scenario } from './scenario-types.ts';
import type { ApiServices } from './services.ts';
import type { WorkerSpec } from './worker.ts';

/**
 * Which workers this process runs and when each starts.
 *
 * Shards: worker k (0-based, global) belongs to shard (k mod n) + 1. Round-robin rather
 * than blocks, so that n shards started together reproduce the unsharded arrival pattern
 * (each shard gets every n-th arrival) instead of the last shard waiting for the first
 * ones' share of the schedule. Worker numbers, usernames and random streams come from k,
 * so shards never overlap and a sharded run draws the same numbers as an unsharded one.
 */

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export class PlanError extends Error {
  override readonly name = 'PlanError';
}

/** `2/5` → { index: 2, count: 5 }. */
export function parseShard(v: string): Shard | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return null;
  return { index, count };
}

/** Start offsets (ms from the run's start) of every worker, global order. */
export function arrivalOffsets(total: number, arrival: ArrivalSpec | undefined, seed: string): number[] {
  const out = new Array<number>(total).fill(0);
  if (!arrival) return out;
  const rng = new Prng(seed, 'arrival');
  const stages = [...arrival.ramp, { forMs: Number.POSITIVE_INFINITY, rate: arrival.rate }];
  let stage = 0;
  let stageEnd = stages[0]?.forMs ?? Number.POSITIVE_INFINITY;
  let t = 0;
  for (let k = 0; k < total; k++) {
    out[k] = Math.round(t);
    const rate = stages[stage]?.rate ?? arrival.rate;
    const factor = arrival.jitter > 0 ? 1 + arrival.jitter * (2 * rng.next() - 1) : 1;
    t += (1000 / rate) * factor;
    while (t >= stageEnd && stage < stages.length - 1) {
      stage++;
      stageEnd += stages[stage]?.forMs ?? Number.POSITIVE_INFINITY;
    }
  }
  return out;
}

export interface PlannedWorker extends WorkerSpec {
  startOffsetMs: number;
}

/** This shard's workers with their usernames, passwords and start offsets. */
export function planWorkers(
  scenario: Scenario,
  shard: Shard,
  opts: { password?: string; workers?: number } = {},
): PlannedWorker[] {
  const total = opts.workers ?? scenario.workers.count;
  const users = scenario.workers.users;
  if (users.kind !== 'prefix') {
    const listed = users.kind === 'csv' ? users.users.length : users.names.length;
    if (total > listed) throw new PlanError(`${total} workers but the users list has only ${listed}`);
  }
  const offsets = arrivalOffsets(total, scenario.arrival, scenario.seed);
  const out: PlannedWorker[] = [];
  for (let k = shard.index - 1; k < total; k += shard.count) {
    let username: string;
    let password: string | undefined;
    switch (users.kind) {
      case 'prefix':
        username = `${users.prefix}${k + 1}`;
        password = users.password ?? opts.password;
        break;
      case 'list':
        username = users.names[k] as string;
        password = users.password ?? opts.password;
        break;
      case 'csv': {
        const u = users.users[k] as { username: string; password: string };
        username = u.username;
        password = u.password || opts.password;
        break;
      }
    }
    // An OpenRosa app-user link needs none (its token is the credential).
    if (password === undefined && scenario.openrosa) password = '';
    if (password === undefined)
      throw new PlanError(`no password for ${username}: set workers.users.password or pass --password`);
    out.push({ number: k + 1, username, password, startOffsetMs: offsets[k] ?? 0 });
  }
  return out;
}

/**
 * Creates `<prefix><n>` mobile workers through the v0.5 user API. A user that already
 * exists (HQ answers 400 "already taken") is reused: reruns against the same domain work,
 * and a wrong password then shows up as a login failure.
 */
export async function createUsers(
  services: ApiServices,
  workers: PlannedWorker[],
  opts: { concurrency?: number; onCreated?: (created: boolean) => void } = {},
): Promise<{ created: number; reused: number }> {
  let next = 0;
  let created = 0;
  let reused = 0;
  const one = async (w: PlannedWorker) => {
    try {
      await services.api.users.create({
        username: w.username,
        password: w.password,
        first_name: 'fieldsim',
        last_name: `worker ${w.number}`,
      });
      created++;
      opts.onCreated?.(true);
    } catch (e) {
      if (
        e instanceof HttpError &&
        e.status === 400 &&
        /already|exists|taken/i.test(e.serverMessage ?? e.message)
      ) {
        reused++;
        opts.onCreated?.(false);
        return;
      }
      throw e;
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, async () => {
      while (next < workers.length) await one(workers[next++] as PlannedWorker);
    }),
  );
  return { created, reused };
}
