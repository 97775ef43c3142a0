import { base64ToBytes, bytesToBase64 } from '../outbox/base64.ts';
import type { KeyRecord } from '../protocol/key-records.ts';
import { CryptoError } from './crypto-error.ts';

/**
 * The data key escrowed under the server's key record for this user (docs/core.md, "Key
 * escrow"). In CommCare Android the sandbox key is the key record HQ serves, re-wrapped
 * for a new password after fetching it with that password (commcare-android
 * `ManageKeyRecordTask`), so a password changed on HQ does not lock the data out; fieldsim
 * keeps its own data key and password wrap (data-key.ts) and adds this second wrap.
 *
 * AES-256-GCM with the record's 32 bytes, a fresh IV, and as additional data the purpose,
 * the database name and the record's uuid: an escrow row copied from another user's or
 * database's meta, or relabelled with another record's uuid, fails authentication. The
 * record key is imported non-extractable and never stored.
 */
export interface KeyEscrow {
  format: 'fieldsim-key-escrow-v1';
  /** The key record that wraps it. */
  uuid: string;
  valid: string;
  expires?: string;
  /** The key answer's `issued`: sent back as `last_issued` so HQ returns this record again. */
  issued: string;
  iv: string;
  wrapped: string;
}

const enc = new TextEncoder();

function aad(dbName: string, uuid: string): Uint8Array {
  return enc.encode(`fieldsim-key-escrow-v1\u0000${dbName}\u0000${uuid}`);
}

async function recordKey(c: Crypto, rec: KeyRecord): Promise<CryptoKey> {
  const bytes = base64ToBytes(rec.key);
  try {
    return await c.subtle.importKey('raw', bytes as BufferSource, { name: 'AES-GCM' }, false, [
      'encrypt',
      'decrypt',
    ]);
  } finally {
    bytes.fill(0);
  }
}

/** `raw` (the data key's bytes) wrapped by `rec` for database `dbName`. */
export async function escrowDataKey(
  raw: Uint8Array,
  rec: KeyRecord,
  issued: string,
  dbName: string,
  c: Crypto = globalThis.crypto,
): Promise<KeyEscrow> {
  const iv = c.getRandomValues(new Uint8Array(12));
  const ct = await c.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(dbName, rec.uuid) as BufferSource },
    await recordKey(c, rec),
    raw as BufferSource,
  );
  return {
    format: 'fieldsim-key-escrow-v1',
    uuid: rec.uuid,
    valid: rec.valid,
    ...(rec.expires === undefined ? {} : { expires: rec.expires }),
    issued,
    iv: bytesToBase64(iv),
    wrapped: bytesToBase64(new Uint8Array(ct)),
  };
}

/** Whether a meta value has the escrow's shape (a damaged row is reported, not used). */
export function isKeyEscrow(v: unknown): v is KeyEscrow {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    e.format === 'fieldsim-key-escrow-v1' &&
    typeof e.uuid === 'string' &&
    typeof e.issued === 'string' &&
    typeof e.iv === 'string' &&
    typeof e.wrapped === 'string'
  );
}

/**
 * The escrowed data-key bytes (the caller zeroes them). `record-integrity` naming the
 * meta row when the escrow does not open with `rec` (tampered, or not this database's).
 */
export async function openEscrow(
  escrow: KeyEscrow,
  rec: KeyRecord,
  dbName: string,
  metaKey: string,
  c: Crypto = globalThis.crypto,
): Promise<Uint8Array> {
  try {
    const raw = await c.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: base64ToBytes(escrow.iv) as BufferSource,
        additionalData: aad(dbName, escrow.uuid) as BufferSource,
      },
      await recordKey(c, rec),
      base64ToBytes(escrow.wrapped) as BufferSource,
    );
    const out = new Uint8Array(raw);
    if (out.length !== 32) throw new Error(`escrowed key of ${out.length} bytes`);
    return out;
  } catch (e) {
    throw new CryptoError(
      'record-integrity',
      `The escrowed data key (meta/${metaKey}) failed its integrity check (damaged or tampered with)`,
      { table: 'meta', recordKey: metaKey, cause: e },
    );
  }
}
