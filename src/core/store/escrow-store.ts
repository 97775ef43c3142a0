import { CryptoError } from '../crypto/crypto-error.ts';
import { escrowDataKey, isKeyEscrow, type KeyEscrow, openEscrow } from '../crypto/key-escrow.ts';
import { currentKeyRecord, type KeyRecordSet } from '../protocol/key-records.ts';
import type { FieldsimDb } from './fieldsim-db.ts';

/**
 * The `meta` row `crypto.escrow`: the data key wrapped by the server's current key record
 * (crypto/key-escrow.ts). Written at an online unlock that had the key open and a key
 * record on offer, once per record: a new record (HQ rotated it) replaces the row, and a
 * row that no longer opens with its own record is rewritten. Read at an online login whose
 * password the server accepted but which does not open the data key.
 */

export const ESCROW_META = 'crypto.escrow';

/** The stored escrow; `damaged` when the row is there but not an escrow. */
export async function readEscrow(db: FieldsimDb): Promise<KeyEscrow | 'damaged' | undefined> {
  const v = (await db.meta.get(ESCROW_META))?.value;
  if (v === undefined) return undefined;
  return isKeyEscrow(v) ? v : 'damaged';
}

/** Whether the stored escrow is usable with this answer's record of the same uuid. */
async function stillOpens(
  db: FieldsimDb,
  escrow: KeyEscrow,
  set: KeyRecordSet,
  c: Crypto | undefined,
): Promise<boolean> {
  const rec = set.records.find((r) => r.uuid === escrow.uuid);
  if (!rec) return false;
  try {
    (await openEscrow(escrow, rec, db.name, ESCROW_META, c)).fill(0);
    return true;
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'record-integrity') return false;
    throw e;
  }
}

/**
 * Escrows `raw` under the answer's current record unless the stored escrow already is
 * that record's and opens. Returns whether a row was written. The write checks that the
 * database still has its data key (nothing escrowed for a database being reset).
 */
export async function keepEscrow(
  db: FieldsimDb,
  raw: Uint8Array,
  set: KeyRecordSet | null,
  stored: KeyEscrow | 'damaged' | undefined,
  dataKeyMeta: string,
  c: Crypto | undefined,
): Promise<boolean> {
  if (set === null) return false;
  const current = currentKeyRecord(set);
  if (current === undefined) return false;
  if (stored !== undefined && stored !== 'damaged' && stored.uuid === current.uuid) {
    if (await stillOpens(db, stored, set, c)) return false;
  }
  const next = await escrowDataKey(raw, current, set.issued, db.name, c);
  return db.transaction('rw', [db.meta], async () => {
    if ((await db.meta.get(dataKeyMeta)) === undefined) return false;
    await db.meta.put({ key: ESCROW_META, value: next });
    return true;
  });
}

/**
 * The data-key bytes from the escrow, for a login whose new password the server accepted.
 * `password-changed` when there is no escrow or the server does not offer its record
 * (a generic OpenRosa server, keys never fetched, record gone); `record-integrity` when
 * the escrow row is damaged or does not open.
 */
export async function bytesFromEscrow(
  db: FieldsimDb,
  stored: KeyEscrow | 'damaged' | undefined,
  set: KeyRecordSet | null,
  c: Crypto | undefined,
): Promise<Uint8Array> {
  if (stored === undefined) throw passwordChanged('this device holds no escrow of its data key');
  if (stored === 'damaged')
    throw new CryptoError(
      'record-integrity',
      `The escrowed data key (meta/${ESCROW_META}) is damaged; give the password used before on this device`,
      { table: 'meta', recordKey: ESCROW_META },
    );
  const rec = set?.records.find((r) => r.uuid === stored.uuid);
  if (rec === undefined)
    throw passwordChanged(
      set === null
        ? 'the server offers no key records'
        : `the server no longer offers key record ${stored.uuid}`,
    );
  return openEscrow(stored, rec, db.name, ESCROW_META, c);
}

export function passwordChanged(why: string): CryptoError {
  return new CryptoError(
    'password-changed',
    `The password was changed on the server and does not open the data on this device (${why}). ` +
      'Give the password used before on this device once; the data is then re-protected for the new one.',
  );
}
