import { storeDigests } from '../auth/digest-store.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { Db } from '../db/database.ts';
import { formatUsername } from '../db/users.ts';
import { hexId } from '../ids.ts';
import { DEMO_DOMAIN, seedDemo } from './demo.ts';
import { seedSyntheticCases } from './synthetic.ts';

export interface LoadUsersOptions {
  /** Mobile workers `<prefix>1` .. `<prefix><count>`. */
  prefix: string;
  count: number;
  password: string;
  /** Synthetic cases (households with members) owned by each worker. */
  casesPerUser: number;
  domain?: string;
  /**
   * PBKDF2 iterations of the stored verifiers. The emulator's default (60,000) costs
   * ~25 ms of server CPU per worker's first request; for a thousand load-test workers
   * that is half a minute of the server doing nothing but hashing, which would measure
   * the password check instead of the protocol. Load users are throwaway accounts.
   */
  iterations?: number;
}

/**
 * Seeds many mobile workers with their own cases for QA-runner load tests (issue 7's
 * 1,000-worker benchmark): plain INSERTs in one transaction, workers in no group (so each
 * restore holds only that worker's cases). Existing usernames are skipped, so seeding
 * twice is harmless. Seeds the demo project first when the database is empty.
 */
export function seedLoadUsers(
  db: Db,
  opts: LoadUsersOptions,
): { created: number; cases: number; seconds: number } {
  const domain = opts.domain ?? DEMO_DOMAIN;
  const started = performance.now();
  seedDemo(db);
  // One verifier for all: same password, and hashing a thousand times is the cost avoided.
  const hash = hashPassword(opts.password, opts.iterations ?? 1_000);
  const today = new Date().toISOString().slice(0, 10);
  const exists = db.prepare('SELECT 1 FROM users WHERE username = ?');
  const insert = db.prepare(
    `INSERT INTO users (id, domain, username, kind, password_hash, first_name, last_name, user_data, date_joined)
     VALUES (?, ?, ?, 'mobile', ?, 'Load', ?, ?, ?)`,
  );
  let created = 0;
  let cases = 0;
  db.transaction(() => {
    for (let n = 1; n <= opts.count; n++) {
      const username = formatUsername(`${opts.prefix}${n}`, domain);
      if (exists.get(username)) continue;
      const id = hexId();
      insert.run(
        id,
        domain,
        username,
        hash,
        `worker ${n}`,
        JSON.stringify({ commcare_project: domain }),
        today,
      );
      storeDigests(db, { id, domain, username, kind: 'mobile' }, opts.password);
      created++;
      if (opts.casesPerUser > 0) {
        const r = seedSyntheticCases(db, { domain, ownerId: id, count: opts.casesPerUser });
        cases += r.households + r.members;
      }
    }
  })();
  return { created, cases, seconds: (performance.now() - started) / 1000 };
}
