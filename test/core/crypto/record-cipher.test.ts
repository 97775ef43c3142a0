import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../../src/core/crypto/crypto-error.ts';
import { createDataKey, rewrapDataKey, unwrapDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { Vault } from '../../../src/core/crypto/vault.ts';

const FAST = { iterations: 1000 };

async function cipher(): Promise<RecordCipher> {
  return new RecordCipher((await createDataKey('pw', FAST)).key);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof CryptoError ? e.code : `other: ${String(e)}`;
  }
}

describe('RecordCipher', () => {
  it('round-trips text, JSON and bytes; every seal has a fresh IV', async () => {
    const c = await cipher();
    const a = await c.sealText('casePages', '1:0', 'Amina Okafor');
    const b = await c.sealText('casePages', '1:0', 'Amina Okafor');
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a.subarray(1, 13)).equals(Buffer.from(b.subarray(1, 13)))).toBe(false);
    expect(await c.openText('casePages', '1:0', a)).toBe('Amina Okafor');
    expect(Buffer.from(a).includes(Buffer.from('Amina'))).toBe(false);
    const j = await c.sealJson('fixtures', 'f|u', { x: [1, 'é'] });
    expect(await c.openJson('fixtures', 'f|u', j)).toEqual({ x: [1, 'é'] });
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect([
      ...(await c.open('outboxBlobs', 'i|photo.jpg', await c.seal('outboxBlobs', 'i|photo.jpg', bytes))),
    ]).toEqual([0, 1, 2, 255]);
  });

  it('seals many records in flight at once over WebCrypto, each with its own text, key and IV', async () => {
    // Lines are encoded into one reused buffer, wiped at once: each record in flight must
    // still be sealed from its own bytes, even when the Crypto reads them late.
    const key = (await createDataKey('pw', FAST)).key;
    const late = {
      getRandomValues: (a: Uint8Array) => crypto.getRandomValues(a),
      subtle: {
        encrypt: async (...args: Parameters<SubtleCrypto['encrypt']>) => {
          await new Promise((r) => setTimeout(r, 1));
          return crypto.subtle.encrypt(...args);
        },
        decrypt: (...args: Parameters<SubtleCrypto['decrypt']>) => crypto.subtle.decrypt(...args),
      },
    } as unknown as Crypto;
    const c = new RecordCipher(key, late);
    expect(c.synchronous).toBe(false);
    const texts = Array.from(
      { length: 200 },
      (_, i) => `case ${i} ${'é'.repeat(i * 7)}\n${'x'.repeat(i * 31)}`,
    );
    const sealed = await Promise.all(
      texts.map((t, i) => c.sealText('casePages', `1:${i}`, i % 2 === 0 ? t : t.split('\n'))),
    );
    const ivs = new Set(sealed.map((r) => Buffer.from(r.subarray(1, 13)).toString('hex')));
    expect(ivs.size).toBe(texts.length);
    for (const [i, r] of sealed.entries()) {
      expect(r.length).toBe(1 + 12 + new TextEncoder().encode(texts[i]).length + 16);
      expect(await c.openText('casePages', `1:${i}`, r)).toBe(texts[i]);
    }
    // The same records as `seal` of the UTF-8 bytes: either opens the other's.
    const viaBytes = await c.seal('casePages', '1:0', new TextEncoder().encode(texts[3] as string));
    expect(await c.openText('casePages', '1:0', viaBytes)).toBe(texts[3]);
    // A record too large for the scratch takes an array of its own.
    const big = 'y'.repeat(300 * 1024);
    expect(await c.openText('caseSums', '1:9', await c.sealText('caseSums', '1:9', big))).toBe(big);
  });

  it('a different key opens nothing (record-integrity)', async () => {
    const sealed = await (await cipher()).sealText('caseSums', '1:0', 'secret');
    const err = await (await cipher()).openText('caseSums', '1:0', sealed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe('record-integrity');
    expect((err as CryptoError).table).toBe('caseSums');
    expect((err as CryptoError).recordKey).toBe('1:0');
  });

  it('detects a flipped bit anywhere, a truncated record and a non-record', async () => {
    const c = await cipher();
    const sealed = await c.sealText('casePages', '1:3', 'Case name: Joseph Banda');
    for (const i of [1, 13, sealed.length - 1]) {
      const t = sealed.slice();
      t[i] = (t[i] as number) ^ 1;
      expect(await codeOf(c.openText('casePages', '1:3', t))).toBe('record-integrity');
    }
    expect(await codeOf(c.openText('casePages', '1:3', sealed.slice(0, 20)))).toBe('record-integrity');
    expect(await codeOf(c.open('casePages', '1:3', new TextEncoder().encode('plain text')))).toBe(
      'record-integrity',
    );
  });

  it('detects records swapped between keys or tables', async () => {
    const c = await cipher();
    const p0 = await c.sealText('casePages', '1:0', 'page zero');
    expect(await codeOf(c.openText('casePages', '1:1', p0))).toBe('record-integrity');
    expect(await codeOf(c.openText('casePages', '2:0', p0))).toBe('record-integrity');
    expect(await codeOf(c.openText('caseSums', '1:0', p0))).toBe('record-integrity');
    expect(await c.openText('casePages', '1:0', p0)).toBe('page zero');
  });
});

describe('data key wrapping', () => {
  it('unwraps with the password only; the key is not extractable', async () => {
    const { key, wrapped } = await createDataKey('correct horse', FAST);
    expect(key.extractable).toBe(false);
    expect(wrapped).toMatchObject({
      format: 'fieldsim-data-key-v1',
      kdf: 'PBKDF2-SHA-256',
      iterations: 1000,
    });
    const sealed = await new RecordCipher(key).sealText('meta', 'k', 'hello');
    const again = await unwrapDataKey('correct horse', wrapped);
    expect(again.extractable).toBe(false);
    expect(await new RecordCipher(again).openText('meta', 'k', sealed)).toBe('hello');
    expect(await codeOf(unwrapDataKey('wrong', wrapped))).toBe('wrong-password');
  });

  it('uses the verifier strength by default', async () => {
    const { wrapped } = await createDataKey('pw');
    expect(wrapped.iterations).toBeGreaterThanOrEqual(600_000);
  });

  it('re-wrapping keeps the data key and retires the old password', async () => {
    const { key, wrapped } = await createDataKey('old', FAST);
    const sealed = await new RecordCipher(key).sealText('outbox', '7', '<data/>');
    const next = await rewrapDataKey('old', 'new', wrapped, FAST);
    expect(next.wrapped.salt).not.toBe(wrapped.salt);
    expect(
      await new RecordCipher(await unwrapDataKey('new', next.wrapped)).openText('outbox', '7', sealed),
    ).toBe('<data/>');
    expect(await codeOf(unwrapDataKey('old', next.wrapped))).toBe('wrong-password');
    expect(await codeOf(rewrapDataKey('nope', 'x', wrapped, FAST))).toBe('wrong-password');
  });
});

describe('Vault', () => {
  it('is plain until marked, locked until opened, locked again after lock()', async () => {
    const v = new Vault();
    expect(v.cipher()).toBeNull();
    v.markEncrypted();
    expect(() => v.cipher()).toThrow(CryptoError);
    const c = await cipher();
    v.open(c);
    expect(v.cipher()).toBe(c);
    v.lock();
    try {
      v.cipher();
      expect.unreachable();
    } catch (e) {
      expect((e as CryptoError).code).toBe('data-locked');
    }
  });
});

describe('encrypted export envelope', () => {
  it('round-trips with the password; a wrong password or an altered file opens nothing', async () => {
    const { sealExport, openExport, isEncryptedExport } = await import(
      '../../../src/core/crypto/export-envelope.ts'
    );
    const text = JSON.stringify({ format: 'fieldsim-outbox', forms: [{ xml: '<answer>Nyambura</answer>' }] });
    const env = await sealExport(text, 'pw', { iterations: 1000 });
    expect(isEncryptedExport(env)).toBe(true);
    expect(JSON.stringify(env)).not.toContain('Nyambura');
    expect(await openExport(env, 'pw')).toBe(text);
    expect(await codeOf(openExport(env, 'nope'))).toBe('wrong-password');
    const data = Buffer.from(env.data, 'base64');
    data[3] = (data[3] as number) ^ 1;
    expect(await codeOf(openExport({ ...env, data: data.toString('base64') }, 'pw'))).toBe('wrong-password');
  });
});
