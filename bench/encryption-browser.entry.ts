/**
 * Chromium side of the encryption-at-rest benchmark (bundled by bench/encryption.bench.ts):
 * the same rounds as in Node (encryption-round.ts) over Chromium's on-disk IndexedDB,
 * with the browser's own WebCrypto sealing the records.
 */
import { createDataKey } from '../src/core/crypto/data-key.ts';
import { RecordCipher } from '../src/core/crypto/record-cipher.ts';
import { encryptionRound, type RoundResult, sealCost } from './encryption-round.ts';

let cipher: RecordCipher | null = null;
let dbs = 0;

async function round(encrypted: boolean, cases: number, forms: number): Promise<RoundResult> {
  if (encrypted && cipher === null)
    cipher = new RecordCipher((await createDataKey('bench', { iterations: 1000 })).key);
  const name = `bench-enc-${Date.now()}-${++dbs}`;
  try {
    // The PWA restores in its worker with 3 batch commits in flight (restore-worker.ts), so
    // sealing one batch overlaps parsing the next: measured the same way here.
    return await encryptionRound(
      name,
      { indexedDB, IDBKeyRange },
      encrypted ? cipher : null,
      cases,
      forms,
      undefined,
      3,
    );
  } finally {
    // Each round starts from an empty profile's worth of data, as the Node rounds do.
    await new Promise<void>((resolve) => {
      const r = indexedDB.deleteDatabase(name);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
  }
}

async function seals(n: number): Promise<number[]> {
  cipher ??= new RecordCipher((await createDataKey('bench', { iterations: 1000 })).key);
  return sealCost(cipher, n);
}

declare global {
  var fieldsimEncryptionBench: { round: typeof round; seals: typeof seals };
}
globalThis.fieldsimEncryptionBench = { round, seals };
