import { createCipheriv, createDecipheriv, KeyObject } from 'node:crypto';
import type { BoundRecordAead, RecordAead } from '../core/crypto/record-aead.ts';

/**
 * node:crypto's AES-256-GCM for the core's record cipher (src/core/crypto/record-aead.ts):
 * synchronous, so sealing a save's few records costs a few µs each instead of a libuv
 * thread-pool job each (measured in bench/encryption.bench.ts).
 *
 * `KeyObject.from` gives this process's handle on the same key material as the
 * non-extractable CryptoKey (WebCrypto's non-extractable flag guards an API, not memory:
 * the key was in this process either way). The KeyObject stays in this closure, is never
 * exported, and goes with the cipher when the vault locks.
 */
export const nodeRecordAead: RecordAead = {
  bind(key: CryptoKey): BoundRecordAead | null {
    const alg = key.algorithm as { name?: string; length?: number };
    if (alg.name !== 'AES-GCM' || alg.length !== 256) return null;
    let k: KeyObject;
    try {
      k = KeyObject.from(key);
    } catch {
      // A CryptoKey from another WebCrypto (a polyfill, another realm): stay on WebCrypto.
      return null;
    }
    return {
      seal(iv, aad, plain, out, offset) {
        const c = createCipheriv('aes-256-gcm', k, iv, { authTagLength: 16 });
        c.setAAD(aad);
        let at = offset;
        const body = c.update(plain);
        out.set(body, at);
        at += body.length;
        const rest = c.final();
        out.set(rest, at);
        at += rest.length;
        out.set(c.getAuthTag(), at);
      },
      open(iv, aad, sealed) {
        if (sealed.length < 16) throw new Error('sealed record shorter than its tag');
        const d = createDecipheriv('aes-256-gcm', k, iv, { authTagLength: 16 });
        d.setAAD(aad);
        d.setAuthTag(sealed.subarray(sealed.length - 16));
        const body = d.update(sealed.subarray(0, sealed.length - 16));
        const rest = d.final();
        if (rest.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
        const out = new Uint8Array(body.length + rest.length);
        out.set(body, 0);
        out.set(rest, body.length);
        return out;
      },
    };
  },
};
