import { base64ToBytes, bytesToBase64 } from '../outbox/base64.ts';
import { DEFAULT_PBKDF2_ITERATIONS } from '../sync/password-verifier.ts';
import { CryptoError } from './crypto-error.ts';

/**
 * The per-database data key and its wrapping by the password.
 *
 * The data key is 32 random bytes, used as a non-extractable AES-GCM CryptoKey (so page
 * script can encrypt with it but never read it back). On disk it only exists wrapped:
 * AES-GCM under a key-encryption key derived from the password with PBKDF2-SHA-256, with
 * its own random salt and at least the offline verifier's iteration count (OWASP 2023:
 * 600,000). A wrong password fails the wrap's authentication: nothing can be decrypted.
 * Like CommCare Android's user key record, the wrap changes with the password while the
 * data key (and so every stored record) stays the same.
 */
export interface WrappedDataKey {
  format: 'fieldsim-data-key-v1';
  kdf: 'PBKDF2-SHA-256';
  iterations: number;
  salt: string;
  iv: string;
  wrapped: string;
}

const AAD = new TextEncoder().encode('fieldsim-data-key-v1');

function cryptoOf(c: Crypto | undefined): Crypto {
  const cr = c ?? globalThis.crypto;
  if (!cr?.subtle) throw new CryptoError('data-locked', 'WebCrypto (crypto.subtle) is not available');
  return cr;
}

async function kek(c: Crypto, password: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await c.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return c.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function importDataKey(c: Crypto, raw: Uint8Array): Promise<CryptoKey> {
  return c.subtle.importKey('raw', raw as BufferSource, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

async function wrapRaw(
  c: Crypto,
  raw: Uint8Array,
  password: string,
  iterations: number,
): Promise<WrappedDataKey> {
  const salt = c.getRandomValues(new Uint8Array(16));
  const iv = c.getRandomValues(new Uint8Array(12));
  const k = await kek(c, password, salt, iterations);
  const ct = await c.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: AAD as BufferSource },
    k,
    raw as BufferSource,
  );
  return {
    format: 'fieldsim-data-key-v1',
    kdf: 'PBKDF2-SHA-256',
    iterations,
    salt: bytesToBase64(salt),
    iv: bytesToBase64(iv),
    wrapped: bytesToBase64(new Uint8Array(ct)),
  };
}

async function unwrapRaw(c: Crypto, password: string, w: WrappedDataKey): Promise<Uint8Array> {
  if (w?.format !== 'fieldsim-data-key-v1' || w.kdf !== 'PBKDF2-SHA-256')
    throw new CryptoError('record-integrity', 'The stored data key is not in a known format');
  const k = await kek(c, password, base64ToBytes(w.salt), w.iterations);
  try {
    const raw = await c.subtle.decrypt(
      { name: 'AES-GCM', iv: base64ToBytes(w.iv) as BufferSource, additionalData: AAD as BufferSource },
      k,
      base64ToBytes(w.wrapped) as BufferSource,
    );
    return new Uint8Array(raw);
  } catch (e) {
    throw new CryptoError('wrong-password', 'This password does not open the data on this device', {
      cause: e,
    });
  }
}

export interface KeyOptions {
  /** PBKDF2 iterations (default and minimum in production: the verifier's 600,000). */
  iterations?: number;
  crypto?: Crypto;
}

/** A fresh random data key, in memory and wrapped by `password`. */
export async function createDataKey(
  password: string,
  opts: KeyOptions = {},
): Promise<{ key: CryptoKey; wrapped: WrappedDataKey }> {
  const c = cryptoOf(opts.crypto);
  const raw = c.getRandomValues(new Uint8Array(32));
  try {
    const wrapped = await wrapRaw(c, raw, password, opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS);
    return { key: await importDataKey(c, raw), wrapped };
  } finally {
    raw.fill(0);
  }
}

/** The data key, as a non-extractable CryptoKey; `wrong-password` if it does not unwrap. */
export async function unwrapDataKey(password: string, w: WrappedDataKey, c?: Crypto): Promise<CryptoKey> {
  const cr = cryptoOf(c);
  const raw = await unwrapRaw(cr, password, w);
  try {
    return await importDataKey(cr, raw);
  } finally {
    raw.fill(0);
  }
}

/**
 * The same data key wrapped by `newPassword` (fresh salt and IV): once the caller replaces
 * the stored wrap, `oldPassword` no longer opens anything.
 */
export async function rewrapDataKey(
  oldPassword: string,
  newPassword: string,
  w: WrappedDataKey,
  opts: KeyOptions = {},
): Promise<{ key: CryptoKey; wrapped: WrappedDataKey }> {
  const c = cryptoOf(opts.crypto);
  const raw = await unwrapRaw(c, oldPassword, w);
  try {
    const iterations = Math.max(w.iterations, opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS);
    const wrapped = await wrapRaw(c, raw, newPassword, iterations);
    return { key: await importDataKey(c, raw), wrapped };
  } finally {
    raw.fill(0);
  }
}

/*
 * Byte-level access for the key escrow (key-escrow.ts), which must wrap the same 32 bytes
 * under the server's key record. The caller zeroes the bytes as soon as it is done.
 */

/** The data key's bytes; `wrong-password` if the password does not unwrap it. */
export function unwrapDataKeyBytes(password: string, w: WrappedDataKey, c?: Crypto): Promise<Uint8Array> {
  return unwrapRaw(cryptoOf(c), password, w);
}

/** `raw` wrapped by `password` (fresh salt and IV, at least `minIterations`). */
export function wrapDataKeyBytes(
  raw: Uint8Array,
  password: string,
  opts: KeyOptions & { minIterations?: number } = {},
): Promise<WrappedDataKey> {
  const iterations = Math.max(opts.minIterations ?? 0, opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS);
  return wrapRaw(cryptoOf(opts.crypto), raw, password, iterations);
}

/** `raw` as the non-extractable AES-GCM data key. */
export function importDataKeyBytes(raw: Uint8Array, c?: Crypto): Promise<CryptoKey> {
  return importDataKey(cryptoOf(c), raw);
}

/** Fresh random data-key bytes (for a new database). */
export function newDataKeyBytes(c?: Crypto): Uint8Array {
  return cryptoOf(c).getRandomValues(new Uint8Array(32));
}
