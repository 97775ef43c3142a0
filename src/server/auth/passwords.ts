import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Password verifiers in Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` shape,
 * because HQ sends the Django hash in the restore's `<Registration><password>` (PROTOCOL.md
 * 3.7) and phones store it opaquely. Passwords are never stored in clear.
 */
const ITERATIONS = 60_000;

export function hashPassword(password: string, iterations = ITERATIONS): string {
  const salt = randomBytes(12).toString('base64url');
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64');
  return `pbkdf2_sha256$${iterations}$${salt}$${hash}`;
}

let dummy: string | undefined;

/**
 * Runs a full verification against a throwaway verifier and answers false: a login for an
 * unknown or unusable account then costs as much as a wrong password for a real one, so
 * the answer time does not tell which usernames exist.
 */
export function verifyAgainstDummy(password: string): false {
  dummy ??= hashPassword('fieldsim-dummy-password');
  verifyPassword(password, dummy);
  return false;
}

export function verifyPassword(password: string, stored: string): boolean {
  const parts = stored.split('$');
  // Django's legacy `sha1$<salt>$<hex sha1(salt + password)>`, the hash JavaRosa phones
  // put in a registration form's `<password>` (hq:corehq/apps/users/models.py
  // `create_or_update_from_xform` stores such a hash as is).
  if (parts.length === 3 && parts[0] === 'sha1') {
    const actual = createHash('sha1')
      .update(`${parts[1] ?? ''}${password}`)
      .digest();
    const expected = Buffer.from(parts[2] ?? '', 'hex');
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }
  if (parts.length !== 4 || parts[0] !== 'pbkdf2_sha256') return false;
  const iterations = Number(parts[1]);
  const salt = parts[2] ?? '';
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  if (!Number.isInteger(iterations) || iterations < 1 || expected.length === 0) return false;
  const actual = pbkdf2Sync(password, salt, iterations, expected.length, 'sha256');
  return timingSafeEqual(actual, expected);
}

/** A stored verifier this module can check: `pbkdf2_sha256$...` or legacy `sha1$...`. */
export function isPasswordHash(value: string): boolean {
  const parts = value.split('$');
  if (parts.length === 4 && parts[0] === 'pbkdf2_sha256')
    return /^\d+$/.test(parts[1] ?? '') && (parts[2] ?? '') !== '' && (parts[3] ?? '') !== '';
  return parts.length === 3 && parts[0] === 'sha1' && /^[0-9a-f]{40}$/i.test(parts[2] ?? '');
}

/**
 * Verifying PBKDF2 on every request would cap the receiver at a few dozen forms a second
 * (Basic auth is sent with each submission). Successful checks are remembered in memory,
 * keyed by a digest of (stored verifier, password): a password change produces a new
 * verifier and so misses the cache. Nothing here is persisted or logged.
 */
export class PasswordCache {
  readonly #ok = new Set<string>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  verify(password: string, stored: string): boolean {
    const key = createHash('sha256').update(stored).update('\0').update(password).digest('base64');
    if (this.#ok.has(key)) return true;
    if (!verifyPassword(password, stored)) return false;
    if (this.#ok.size >= this.#max) this.#ok.clear();
    this.#ok.add(key);
    return true;
  }
}
