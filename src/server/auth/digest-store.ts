import { createHash } from 'node:crypto';
import { cached, type Db } from '../db/db-handle.ts';

/**
 * HTTP Digest needs HA1 = H(login:realm:password) for each login the user may type, which
 * cannot be derived from the PBKDF2 verifier. Like django_digest's `PartialDigest` table,
 * the digests are written whenever a password is set, one row per login form and
 * algorithm, and the clear password is never kept.
 */

/**
 * django_digest's default realm (`DEFAULT_REALM`), which HQ does not override: the realm is
 * part of every HA1, so a client answering for another realm never matches.
 */
export const DIGEST_REALM = 'DJANGO';

export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS user_digests (
  domain TEXT NOT NULL,
  login TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  user_id TEXT NOT NULL,
  ha1 TEXT NOT NULL,
  PRIMARY KEY (domain, login, algorithm)
);
CREATE INDEX IF NOT EXISTS user_digests_user ON user_digests(user_id);
`;

export function createDigestSchema(db: Db): void {
  db.exec(SCHEMA);
}

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
}

/**
 * The logins a user may type: the full username, and for mobile workers the short name
 * before `@` (the phone logs in with it; `_confirmed_logins` in django_digest likewise
 * stores one digest per login variant).
 */
function loginsOf(username: string, kind: 'mobile' | 'web'): string[] {
  const full = username.toLowerCase();
  const at = full.indexOf('@');
  return kind === 'mobile' && at > 0 ? [full, full.slice(0, at)] : [full];
}

/** Replaces the user's digests after a password change (call with the clear password). */
export function storeDigests(
  db: Db,
  user: { id: string; domain: string; username: string; kind: 'mobile' | 'web' },
  password: string,
): void {
  cached(db, 'DELETE FROM user_digests WHERE user_id = ?').run(user.id);
  const insert = cached(
    db,
    'INSERT OR REPLACE INTO user_digests (domain, login, algorithm, user_id, ha1) VALUES (?, ?, ?, ?, ?)',
  );
  for (const login of loginsOf(user.username, user.kind))
    for (const alg of DIGEST_ALGORITHMS)
      insert.run(user.domain, login, alg, user.id, digestHash(alg, `${login}:${DIGEST_REALM}:${password}`));
}

/** Drops the digests (a password set from a hash, whose clear text is unknown). */
export function clearDigests(db: Db, userId: string): void {
  cached(db, 'DELETE FROM user_digests WHERE user_id = ?').run(userId);
}

/** The digest for `login` as typed in `domain` (short mobile names are per domain). */
export function findDigest(
  db: Db,
  domain: string,
  login: string,
  algorithm: DigestAlgorithm,
): { user_id: string; ha1: string } | undefined {
  return cached(
    db,
    'SELECT user_id, ha1 FROM user_digests WHERE domain = ? AND login = ? AND algorithm = ?',
  ).get(domain, login.toLowerCase(), algorithm) as { user_id: string; ha1: string } | undefined;
}
