import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * API keys are stored as `sha256$<hex>` of the key, never the key itself. A plain digest
 * (no salt, no stretching) is enough: keys are long random tokens, not guessable
 * passwords, and the digest still lets nobody reading the database use one.
 */
const PREFIX = 'sha256$';

export function hashApiKey(key: string): string {
  return PREFIX + createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isHashedApiKey(stored: string): boolean {
  return stored.startsWith(PREFIX) && stored.length === PREFIX.length + 64;
}

/** Compares a presented key with the stored digest in constant time. */
export function apiKeyMatches(key: string, stored: string | null): boolean {
  // Hashing first makes both sides the same length, and the comparison is still done for
  // a user with no key, so the answer takes the same time either way.
  const presented = Buffer.from(hashApiKey(key));
  const expected = Buffer.from(stored !== null && isHashedApiKey(stored) ? stored : hashApiKey(''));
  return timingSafeEqual(presented, expected) && stored !== null && key !== '';
}
