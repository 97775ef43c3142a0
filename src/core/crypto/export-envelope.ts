import { base64ToBytes, bytesToBase64 } from '../outbox/base64.ts';
import { DEFAULT_PBKDF2_ITERATIONS } from '../sync/password-verifier.ts';
import { CryptoError } from './crypto-error.ts';
import type { KeyOptions } from './data-key.ts';

/**
 * Export and backup files (outbox export, CLI and PWA) are encrypted by default: the file
 * is this envelope, AES-256-GCM under a key derived from the password with PBKDF2-SHA-256
 * (own random salt, the verifier's strength). It opens on any device with the password,
 * without the device's data key. A plain export is only written when the user asks for
 * it explicitly (`--plain`, the "Plain export (not encrypted)" checkbox).
 */
export interface EncryptedExport {
  format: 'fieldsim-encrypted-export';
  version: 1;
  kdf: 'PBKDF2-SHA-256';
  iterations: number;
  salt: string;
  iv: string;
  data: string;
}

const AAD = new TextEncoder().encode('fieldsim-encrypted-export-v1');

export function isEncryptedExport(v: unknown): v is EncryptedExport {
  return (
    typeof v === 'object' && v !== null && (v as { format?: unknown }).format === 'fieldsim-encrypted-export'
  );
}

async function keyFor(c: Crypto, password: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
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

export async function sealExport(
  text: string,
  password: string,
  opts: KeyOptions = {},
): Promise<EncryptedExport> {
  const c = opts.crypto ?? globalThis.crypto;
  const iterations = opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const salt = c.getRandomValues(new Uint8Array(16));
  const iv = c.getRandomValues(new Uint8Array(12));
  const key = await keyFor(c, password, salt, iterations);
  const ct = await c.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: AAD as BufferSource },
    key,
    new TextEncoder().encode(text) as BufferSource,
  );
  return {
    format: 'fieldsim-encrypted-export',
    version: 1,
    kdf: 'PBKDF2-SHA-256',
    iterations,
    salt: bytesToBase64(salt),
    iv: bytesToBase64(iv),
    data: bytesToBase64(new Uint8Array(ct)),
  };
}

/** The export's text; `wrong-password` when the password does not open it (or it was altered). */
export async function openExport(env: EncryptedExport, password: string, crypto?: Crypto): Promise<string> {
  const c = crypto ?? globalThis.crypto;
  if (env.version !== 1 || env.kdf !== 'PBKDF2-SHA-256')
    throw new CryptoError('record-integrity', 'This encrypted export is in an unknown format');
  const key = await keyFor(c, password, base64ToBytes(env.salt), env.iterations);
  try {
    const pt = await c.subtle.decrypt(
      { name: 'AES-GCM', iv: base64ToBytes(env.iv) as BufferSource, additionalData: AAD as BufferSource },
      key,
      base64ToBytes(env.data) as BufferSource,
    );
    return new TextDecoder().decode(pt);
  } catch (e) {
    throw new CryptoError(
      'wrong-password',
      'This password does not open the encrypted export (or the file was altered)',
      {
        cause: e,
      },
    );
  }
}
