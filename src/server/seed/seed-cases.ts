import { type Db, getMeta, openDatabase, setMeta } from '../db/database.ts';
import { getUserByUsername, normalizeLogin } from '../db/users.ts';
import { DEMO_DOMAIN, seedDemo } from './demo.ts';
import { seedSyntheticCases } from './synthetic.ts';

export class SeedError extends Error {
  override readonly name = 'SeedError';
}

export interface SeedCasesOptions {
  /** Either an open emulator database or the data folder holding one. */
  db?: Db;
  dataDir?: string;
  cases: number;
  /** Mobile worker, short (`worker1`) or full username (default worker1). */
  user?: string;
  domain?: string;
}

export interface SeedCasesResult {
  username: string;
  households: number;
  members: number;
  seconds: number;
  casesPerSecond: number;
}

/**
 * Loads N synthetic cases for one mobile worker: what `npm start -- --seed-cases N` and the
 * CLI's `fieldsim seed --cases N --user worker1` both run. Seeds the demo project first if
 * the database is empty.
 */
export function seedCases(opts: SeedCasesOptions): SeedCasesResult {
  if (!Number.isInteger(opts.cases) || opts.cases < 1)
    throw new SeedError('cases must be a positive integer');
  const domain = opts.domain ?? DEMO_DOMAIN;
  const own = opts.db === undefined;
  if (own && opts.dataDir === undefined) throw new SeedError('give either db or dataDir');
  const db = opts.db ?? openDatabase(opts.dataDir!);
  try {
    seedDemo(db);
    const who = opts.user ?? 'worker1';
    const user = getUserByUsername(db, normalizeLogin(who, domain));
    if (!user || user.domain !== domain || user.kind !== 'mobile')
      throw new SeedError(`no mobile worker ${who} in domain ${domain}`);
    const started = performance.now();
    const r = seedSyntheticCases(db, { domain, ownerId: user.id, count: opts.cases });
    const seconds = (performance.now() - started) / 1000;
    setMeta(db, 'synthetic-cases', String(Number(getMeta(db, 'synthetic-cases') ?? 0) + opts.cases));
    return { username: user.username, ...r, seconds, casesPerSecond: Math.round(opts.cases / seconds) };
  } finally {
    if (own) db.close();
  }
}
