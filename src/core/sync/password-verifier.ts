import { FieldsimError } from '../errors/fieldsim-error.ts';
import { base64ToBytes, bytesToBase64 } from '../outbox/base64.ts';

/**
 * A password verifier for offline login (DESIGN.md 4): PBKDF2-HMAC-SHA-256 via WebCrypto
 * with a random per-user salt and a high iteration count (OWASP's 2023 figure for
 * PBKDF2-SHA256 is 600,000). The password itself is never stored; it lives in memory for
 * the session only.
 */
export interface PasswordVerifier {
  algorithm: 'PBKDF2-SHA-256';
  iterations: number;
  salt: string;
  hash: string;
}

export const DEFAULT_PBKDF2_ITERATIONS = 600_000;

function subtleOf(c: Crypto | undefined): Crypto {
  const cr = c ?? globalThis.crypto;
  if (!cr?.subtle) throw new FieldsimError('invalid-argument', 'WebCrypto (crypto.subtle) is not available');
  return cr;
}

async function derive(
  c: Crypto,
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const key = await c.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await c.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

export async function createPasswordVerifier(
  password: string,
  opts: { iterations?: number; crypto?: Crypto } = {},
): Promise<PasswordVerifier> {
  const c = subtleOf(opts.crypto);
  const iterations = opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const salt = c.getRandomValues(new Uint8Array(16));
  const hash = await derive(c, password, salt, iterations);
  return { algorithm: 'PBKDF2-SHA-256', iterations, salt: bytesToBase64(salt), hash: bytesToBase64(hash) };
}

/** Constant-time comparison of the derived key with the stored one. */
export async function verifyPassword(password: string, v: PasswordVerifier, c?: Crypto): Promise<boolean> {
  const got = await derive(subtleOf(c), password, base64ToBytes(v.salt), v.iterations);
  const want = base64ToBytes(v.hash);
  if (got.length !== want.length) return false;
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff |= (got[i] ?? 0) ^ (want[i] ?? 0);
  return diff === 0;
}
