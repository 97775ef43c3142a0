import { CryptoError } from './crypto-error.ts';
import type { BoundRecordAead, RecordAead } from './record-aead.ts';

/**
 * AES-256-GCM for stored records (WebCrypto, so the same code runs in browsers and Node).
 *
 * Sealed layout: 1 format byte, 12-byte random IV, ciphertext with its 16-byte tag. A
 * fresh random IV per record: with 96-bit random IVs NIST SP 800-38D allows 2^32
 * encryptions under one key, far above what one device stores. The table name and the
 * record's key are the additional data, so a record copied onto another key or into
 * another table fails authentication instead of being read as that record.
 *
 * A host may supply a synchronous AES-GCM for the same key (record-aead.ts; Node does):
 * same layout, same additional data, so records sealed either way open either way.
 */

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A record's text: one string, or lines to be joined by '\n' (the same record as the
 * joined string), encoded line by line so the joined string is never built.
 */
export type RecordText = string | readonly string[];

function lengthOf(text: RecordText): number {
  if (typeof text === 'string') return text.length;
  let n = text.length;
  for (const line of text) n += line.length;
  return n;
}

function joined(text: RecordText): string {
  return typeof text === 'string' ? text : text.join('\n');
}

function aadOf(table: string, recordKey: string): Uint8Array {
  return enc.encode(`fieldsim-record-v1\u0000${table}\u0000${recordKey}`);
}

/**
 * A reusable byte buffer for the synchronous path, where bytes are consumed before the
 * call returns (the WebCrypto path only builds a page's text in it, then copies it out): the record's plaintext and additional data are encoded into it instead
 * of into a fresh array per record (a save seals three records of ~15 KB; those arrays
 * were a good part of the encrypted save's garbage, bench/RESULTS.md session 7).
 */
class Scratch {
  /** Records larger than this get arrays of their own: the scratch lives as long as the cipher. */
  static readonly MAX = 256 * 1024;
  #buf = new Uint8Array(16 * 1024);

  /** Whether `text` (UTF-8: at most 3 bytes per UTF-16 code unit) fits with `more` code units. */
  static fits(text: RecordText, more: number): boolean {
    return (lengthOf(text) + more) * 3 <= Scratch.MAX;
  }

  /** `text` as UTF-8 at 0 (lines joined by '\n'); returns the bytes written. */
  encodeText(text: RecordText): number {
    if (typeof text === 'string') return this.encode(text, 0);
    let at = 0;
    for (const [i, line] of text.entries()) {
      if (i > 0) at += this.encode('\n', at);
      at += this.encode(line, at);
    }
    return at;
  }

  /** `text` as UTF-8 at `at`, growing the buffer when needed; returns the bytes written. */
  encode(text: string, at: number): number {
    const need = at + text.length * 3;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
    }
    return enc.encodeInto(text, this.#buf.subarray(at)).written;
  }

  view(from: number, to: number): Uint8Array {
    return this.#buf.subarray(from, to);
  }

  /** Forgets the plaintext once sealed, so it does not outlive the record in this buffer. */
  wipe(to: number): void {
    this.#buf.fill(0, 0, to);
  }
}

export class RecordCipher {
  readonly #key: CryptoKey;
  readonly #crypto: Crypto;
  readonly #sync: BoundRecordAead | null;
  // IVs are drawn from the CSPRNG 64 at a time: one getRandomValues call costs about as
  // much as sealing a small record synchronously (and is a call into the browser for
  // WebCrypto). Each IV is still 96 fresh random bits, each used once.
  #ivPool = new Uint8Array(0);
  #ivAt = 0;
  readonly #scratch = new Scratch();
  readonly #aadPrefix = new Map<string, string>();

  /**
   * `key`: a non-extractable AES-GCM key (see data-key.ts). `aead`: the host's synchronous
   * AES-GCM (Node), used instead of WebCrypto when it can take this key.
   */
  constructor(key: CryptoKey, crypto: Crypto = globalThis.crypto, aead?: RecordAead) {
    this.#key = key;
    this.#crypto = crypto;
    this.#sync = aead?.bind(key) ?? null;
  }

  /** This cipher's key with the host's synchronous AES-GCM (see `Vault.open`). */
  withAead(aead: RecordAead): RecordCipher {
    return this.#sync === null ? new RecordCipher(this.#key, this.#crypto, aead) : this;
  }

  /** Whether records are sealed synchronously (the host's AES-GCM), for the benchmarks. */
  get synchronous(): boolean {
    return this.#sync !== null;
  }

  /**
   * The data key, for this device's own restore worker (docs/pwa.md): posting a CryptoKey
   * clones the handle, and a non-extractable key stays non-extractable in the copy.
   */
  get key(): CryptoKey {
    return this.#key;
  }

  async seal(table: string, recordKey: string, plain: Uint8Array): Promise<Uint8Array> {
    if (this.#sync !== null) return this.sealSync(table, recordKey, plain);
    return this.#sealWeb(plain, aadOf(table, recordKey));
  }

  /** WebCrypto's AES-GCM into a record, the IV from the pool written straight into its header. */
  async #sealWeb(plain: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const out = new Uint8Array(1 + IV_BYTES + plain.length + TAG_BYTES);
    out[0] = FORMAT;
    const iv = out.subarray(1, 1 + IV_BYTES);
    iv.set(this.#nextIv());
    const ct = await this.#crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad as BufferSource },
      this.#key,
      plain as BufferSource,
    );
    out.set(new Uint8Array(ct), 1 + IV_BYTES);
    return out;
  }

  /** `seal` with the host's synchronous AES-GCM; only when `synchronous`. */
  sealSync(table: string, recordKey: string, plain: Uint8Array): Uint8Array {
    const sync = this.#sync;
    if (sync === null) throw new Error('sealSync without a synchronous AES-GCM');
    const out = new Uint8Array(1 + IV_BYTES + plain.length + TAG_BYTES);
    out[0] = FORMAT;
    const iv = out.subarray(1, 1 + IV_BYTES);
    iv.set(this.#nextIv());
    sync.seal(iv, aadOf(table, recordKey), plain, out, 1 + IV_BYTES);
    return out;
  }

  /** The additional data's text before the record key (see `aadOf`), per table. */
  #prefixOf(table: string): string {
    let prefix = this.#aadPrefix.get(table);
    if (prefix === undefined) {
      prefix = `fieldsim-record-v1\u0000${table}\u0000`;
      this.#aadPrefix.set(table, prefix);
    }
    return prefix;
  }

  #nextIv(): Uint8Array {
    if (this.#ivAt + IV_BYTES > this.#ivPool.length) {
      this.#ivPool = this.#crypto.getRandomValues(new Uint8Array(IV_BYTES * 64));
      this.#ivAt = 0;
    }
    const iv = this.#ivPool.subarray(this.#ivAt, this.#ivAt + IV_BYTES);
    this.#ivAt += IV_BYTES;
    return iv;
  }

  async open(table: string, recordKey: string, sealed: Uint8Array): Promise<Uint8Array> {
    const bad = (why: string, cause?: unknown): CryptoError =>
      new CryptoError('record-integrity', `Stored record ${table}/${recordKey} ${why}`, {
        table,
        recordKey,
        ...(cause === undefined ? {} : { cause }),
      });
    if (!(sealed instanceof Uint8Array) || sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT)
      throw bad('is not an encrypted record');
    if (this.#sync !== null) {
      try {
        return this.#sync.open(
          sealed.subarray(1, 1 + IV_BYTES),
          aadOf(table, recordKey),
          sealed.subarray(1 + IV_BYTES),
        );
      } catch (e) {
        throw bad('failed its integrity check (damaged, tampered with or moved)', e);
      }
    }
    try {
      const pt = await this.#crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: sealed.subarray(1, 1 + IV_BYTES) as BufferSource,
          additionalData: aadOf(table, recordKey) as BufferSource,
        },
        this.#key,
        sealed.subarray(1 + IV_BYTES) as BufferSource,
      );
      return new Uint8Array(pt);
    } catch (e) {
      throw bad('failed its integrity check (damaged, tampered with or moved)', e);
    }
  }

  sealText(table: string, recordKey: string, text: RecordText): Promise<Uint8Array> {
    if (this.#sync === null) {
      const prefix = this.#prefixOf(table);
      const aad = enc.encode(prefix + recordKey);
      if (typeof text === 'string' || !Scratch.fits(text, 0))
        return this.#sealWeb(enc.encode(joined(text)), aad);
      // Lines (a case page) are encoded one by one into the scratch, so the page's joined
      // text is never built, then copied out: the plaintext handed to WebCrypto is the
      // record's own, as an injected Crypto may read it later than the call.
      const s = this.#scratch;
      const plainLen = s.encodeText(text);
      const plain = s.view(0, plainLen).slice();
      s.wipe(plainLen);
      return this.#sealWeb(plain, aad);
    }
    try {
      return Promise.resolve(this.sealTextSync(table, recordKey, text));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `sealText` with the host's synchronous AES-GCM; only when `synchronous`. The same
   * record as `seal(table, recordKey, UTF-8 of text)`, without an array per plaintext or
   * per additional data: both are encoded into this cipher's scratch buffer.
   */
  sealTextSync(table: string, recordKey: string, text: RecordText): Uint8Array {
    const sync = this.#sync;
    if (sync === null) throw new Error('sealTextSync without a synchronous AES-GCM');
    const prefix = this.#prefixOf(table);
    if (!Scratch.fits(text, prefix.length + recordKey.length))
      return this.sealSync(table, recordKey, enc.encode(joined(text)));
    const s = this.#scratch;
    const plainLen = s.encodeText(text);
    const aadLen = s.encode(prefix + recordKey, plainLen);
    const out = new Uint8Array(1 + IV_BYTES + plainLen + TAG_BYTES);
    out[0] = FORMAT;
    const iv = out.subarray(1, 1 + IV_BYTES);
    iv.set(this.#nextIv());
    try {
      sync.seal(iv, s.view(plainLen, plainLen + aadLen), s.view(0, plainLen), out, 1 + IV_BYTES);
    } finally {
      s.wipe(plainLen);
    }
    return out;
  }

  async openText(table: string, recordKey: string, sealed: Uint8Array): Promise<string> {
    return dec.decode(await this.open(table, recordKey, sealed));
  }

  sealJson(table: string, recordKey: string, value: unknown): Promise<Uint8Array> {
    return this.sealText(table, recordKey, JSON.stringify(value));
  }

  async openJson<T>(table: string, recordKey: string, sealed: Uint8Array): Promise<T> {
    return JSON.parse(await this.openText(table, recordKey, sealed)) as T;
  }
}
