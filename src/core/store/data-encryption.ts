import type { Table } from 'dexie';
import { CryptoError } from '../crypto/crypto-error.ts';
import {
  importDataKeyBytes,
  type KeyOptions,
  newDataKeyBytes,
  unwrapDataKeyBytes,
  type WrappedDataKey,
  wrapDataKeyBytes,
} from '../crypto/data-key.ts';
import { RecordCipher } from '../crypto/record-cipher.ts';
import { sealOutboxBlob, sealOutboxRow } from '../outbox/outbox-seal.ts';
import { type OutboxBlobRow, type OutboxRow, outboxBlobTable, outboxTable } from '../outbox/outbox-store.ts';
import type { KeyRecordSet } from '../protocol/key-records.ts';
import { StaleCaseState } from './case-writer.ts';
import { bytesFromEscrow, keepEscrow, readEscrow } from './escrow-store.ts';
import type {
  CasePageRow,
  CaseSumRow,
  FieldsimDb,
  FixtureRow,
  LedgerRow,
  StoredFixture,
} from './fieldsim-db.ts';
import { isSealed, sealFixture, sealFixtureRow, sealLedger, sealPage, sealSums } from './sealed-rows.ts';

/**
 * Turning encryption at rest on for one database, and opening it (docs/core.md,
 * "Encryption at rest").
 *
 * The wrapped data key is the `meta` row `crypto.dataKey`; its presence is what makes a
 * database encrypted. `unlockData` runs at login (after the server accepted the password)
 * and at an offline unlock (after the local verifier did):
 *   - no key yet and encryption wanted: a fresh data key; a database written before
 *     encryption existed is migrated in place, all tables and the key row in ONE
 *     transaction (interrupted, it is still the plain database, and the next unlock
 *     migrates again);
 *   - a key: unwrapped with the password (`wrong-password` if it does not open); when the
 *     server accepted a new password that does not open it, `previousPassword` or else the
 *     key escrow (escrow-store.ts) opens it and the key is re-wrapped for the new one, so
 *     the old password opens nothing any more; with neither, `password-changed`.
 * Online unlocks also keep the escrow under the server's current key record.
 */

export const DATA_KEY_META = 'crypto.dataKey';

export type UnlockOutcome = 'plain' | 'created' | 'migrated' | 'opened' | 'rewrapped';

export interface UnlockOptions extends KeyOptions {
  /** Create a data key (and migrate) when the database has none. */
  encrypt: boolean;
  /** The password before it was changed on the server, to re-wrap the key once. */
  previousPassword?: string;
  /**
   * Online unlocks only (login after the server accepted `password`): the server's key
   * records (`GET phone/keys/`, crypto/key-escrow.ts), asked once per unlock with the
   * stored escrow's `issued` as `last_issued`; null when the server offers none (a
   * rejection counts as none). With it, a password that does not open the key is `password-changed` (or
   * re-wrapped through the escrow) instead of `wrong-password`.
   */
  keyRecords?: (lastIssued: string | undefined) => Promise<KeyRecordSet | null>;
}

export async function readWrappedKey(db: FieldsimDb): Promise<WrappedDataKey | undefined> {
  return (await db.meta.get(DATA_KEY_META))?.value as WrappedDataKey | undefined;
}

/** Marks the vault encrypted (locked) when the database has a data key; at open, before any read. */
export async function noteEncryption(db: FieldsimDb): Promise<boolean> {
  const has = (await readWrappedKey(db)) !== undefined;
  if (has) db.vault.markEncrypted();
  return has;
}

export async function unlockData(
  db: FieldsimDb,
  password: string,
  opts: UnlockOptions,
): Promise<UnlockOutcome> {
  const keyOpts: KeyOptions = {
    ...(opts.iterations === undefined ? {} : { iterations: opts.iterations }),
    ...(opts.crypto === undefined ? {} : { crypto: opts.crypto }),
  };
  const c = opts.crypto;
  const online = opts.keyRecords !== undefined;
  const wrapped = await readWrappedKey(db);
  if (wrapped === undefined) {
    if (!opts.encrypt) return 'plain';
    const raw = newDataKeyBytes(c);
    try {
      const [w, set] = await Promise.all([
        wrapDataKeyBytes(raw, password, keyOpts),
        opts.keyRecords?.(undefined) ?? null,
      ]);
      const cipher = new RecordCipher(await importDataKeyBytes(raw, c), c);
      const moved = await migrateToSealed(db, cipher, w);
      db.vault.open(cipher);
      await keepEscrow(db, raw, set, undefined, DATA_KEY_META, c);
      return moved > 0 ? 'migrated' : 'created';
    } finally {
      raw.fill(0);
    }
  }
  db.vault.markEncrypted();
  const escrow = online ? await readEscrow(db) : undefined;
  // The key records are fetched while PBKDF2 runs; they are needed either way online.
  // A failing provider means "no key records", never an unhandled rejection.
  const records: Promise<KeyRecordSet | null> = online
    ? (
        opts.keyRecords?.(escrow === undefined || escrow === 'damaged' ? undefined : escrow.issued) ??
        Promise.resolve(null)
      ).catch(() => null)
    : Promise.resolve(null);
  let raw: Uint8Array;
  let outcome: UnlockOutcome = 'opened';
  try {
    raw = await unwrapDataKeyBytes(password, wrapped, c);
  } catch (e) {
    if (!(e instanceof CryptoError) || e.code !== 'wrong-password') throw e;
    if (opts.previousPassword !== undefined)
      raw = await unwrapDataKeyBytes(opts.previousPassword, wrapped, c);
    else if (online) raw = await bytesFromEscrow(db, escrow, await records, c);
    else throw e;
    outcome = 'rewrapped';
  }
  try {
    if (outcome === 'rewrapped') {
      const next = await wrapDataKeyBytes(raw, password, { ...keyOpts, minIterations: wrapped.iterations });
      // Only replaced if nobody re-wrapped it in between (another tab's login).
      await db.transaction('rw', [db.meta], async () => {
        const now = await readWrappedKey(db);
        if (now?.wrapped !== wrapped.wrapped)
          throw new CryptoError('wrong-password', 'The data key changed during this login; log in again');
        await db.meta.put({ key: DATA_KEY_META, value: next });
      });
    }
    db.vault.open(new RecordCipher(await importDataKeyBytes(raw, c), c));
    if (online) await keepEscrow(db, raw, await records, escrow, DATA_KEY_META, c);
    return outcome;
  } finally {
    raw.fill(0);
  }
}

interface PlainSnapshot {
  fingerprint: string;
  pages: CasePageRow[];
  sums: CaseSumRow[];
  fixtures: StoredFixture[];
  fixtureRows: FixtureRow[];
  ledgers: LedgerRow[];
  outbox: OutboxRow[];
  blobs: OutboxBlobRow[];
}

function tablesOf(db: FieldsimDb): Table[] {
  return [
    db.casePages,
    db.caseSums,
    db.fixtures,
    db.fixtureRows,
    db.ledgers,
    db.meta,
    outboxTable(db),
    outboxBlobTable(db),
  ] as unknown as Table[];
}

/** What must not change between reading the plain rows and writing them sealed. */
async function fingerprint(db: FieldsimDb): Promise<string> {
  const counts = await Promise.all(tablesOf(db).map((t) => t.count()));
  const state = (await db.meta.get('cases.state'))?.value ?? null;
  const outbox = (await outboxTable(db).toArray()).map((r) => [
    r.seq,
    r.state,
    r.attempts,
    r.pruned ?? false,
  ]);
  return JSON.stringify([counts, state, outbox]);
}

/**
 * Encrypts every row of a plain database in place, with the wrapped key, in one
 * transaction. Rows are read in one read transaction and sealed between the two (sealing
 * cannot run inside a transaction); if anything changed meanwhile (another tab), it
 * starts over. Returns how many rows were sealed. Holds the whole database in memory
 * once, like the CLI's state snapshot does.
 */
export async function migrateToSealed(
  db: FieldsimDb,
  c: RecordCipher,
  wrapped: WrappedDataKey,
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const snap: PlainSnapshot = await db.transaction('r', tablesOf(db), async () => ({
      fingerprint: await fingerprint(db),
      pages: (await db.casePages.toArray()) as CasePageRow[],
      sums: (await db.caseSums.toArray()) as CaseSumRow[],
      fixtures: (await db.fixtures.toArray()) as StoredFixture[],
      fixtureRows: (await db.fixtureRows.toArray()) as FixtureRow[],
      ledgers: (await db.ledgers.toArray()) as LedgerRow[],
      outbox: await outboxTable(db).toArray(),
      blobs: await outboxBlobTable(db).toArray(),
    }));
    const all: unknown[] = [
      ...snap.pages,
      ...snap.sums,
      ...snap.fixtures,
      ...snap.fixtureRows,
      ...snap.ledgers,
      ...snap.outbox,
    ];
    if (all.some((r) => isSealed(r)))
      throw new CryptoError('record-integrity', 'The database holds encrypted rows but no data key');
    const [pages, sums, fixtures, fixtureRows, ledgers, outbox, blobs] = await Promise.all([
      Promise.all(snap.pages.map((r) => sealPage(c, r))),
      Promise.all(snap.sums.map((r) => sealSums(c, r))),
      Promise.all(snap.fixtures.map((r) => sealFixture(c, r))),
      Promise.all(snap.fixtureRows.map((r) => sealFixtureRow(c, r))),
      Promise.all(snap.ledgers.map((r) => sealLedger(c, r))),
      Promise.all(snap.outbox.map((r) => sealOutboxRow(c, r))),
      Promise.all(snap.blobs.map((b) => sealOutboxBlob(c, b))),
    ]);
    try {
      await db.transaction('rw', tablesOf(db), async () => {
        if ((await fingerprint(db)) !== snap.fingerprint) throw new StaleCaseState();
        if ((await readWrappedKey(db)) !== undefined)
          throw new CryptoError('wrong-password', 'Another tab turned encryption on meanwhile; unlock again');
        await Promise.all([
          db.casePages.bulkPut(pages),
          db.caseSums.bulkPut(sums),
          db.fixtures.bulkPut(fixtures),
          db.fixtureRows.bulkPut(fixtureRows),
          db.ledgers.bulkPut(ledgers),
          outboxTable(db).bulkPut(outbox),
          outboxBlobTable(db).bulkPut(blobs),
          db.meta.put({ key: DATA_KEY_META, value: wrapped }),
        ]);
      });
      return all.length + blobs.length;
    } catch (e) {
      if (e instanceof StaleCaseState && attempt < 5) continue;
      throw e;
    }
  }
}
