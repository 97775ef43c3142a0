import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { streamOfChunks, synthCaseXml, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

/**
 * `inFlight` (issue 15): a full restore that leaves batch transactions committing while
 * it parses the next batches stores exactly what the one-batch-at-a-time ingest stores,
 * encrypted or not, and a stream that dies mid-way still leaves the old generation.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function connect(name: string, c: RecordCipher | null = null): FieldsimDb {
  const db = new FieldsimDb(name, { indexedDB: new IDBFactory(), IDBKeyRange });
  if (c !== null) db.vault.open(c);
  open.push(db);
  return db;
}

async function everything(db: FieldsimDb): Promise<unknown[]> {
  const { cases } = await new CaseDb(db).query({ limit: 1_000_000 });
  return cases.map((c) => ({ ...c })).sort((a, b) => a.caseId.localeCompare(b.caseId));
}

/** The synthetic payload, then the same cases again with new names (updates of cases on earlier pages). */
function withUpdates(n: number): ReadableStream<Uint8Array> {
  const { chunks } = synthRestoreChunks(n);
  const last = new TextDecoder().decode(chunks.pop());
  const enc = new TextEncoder();
  const again = Array.from({ length: 40 }, (_, i) =>
    synthCaseXml(i * 7, Math.round(n / 10)).replace(/<case_name>[^<]*</, `<case_name>Renamed ${i}<`),
  ).join('');
  chunks.push(enc.encode(last.replace('</OpenRosaResponse>', `${again}</OpenRosaResponse>`)));
  return streamOfChunks(chunks);
}

describe('full restore with batch commits in flight', () => {
  it('stores the same cases as awaiting each commit, updates of earlier pages included', async () => {
    const serial = connect('serial');
    const piped = connect('piped');
    const a = await ingestRestore(serial, withUpdates(1500), { mode: 'full', batchSize: 100 });
    const b = await ingestRestore(piped, withUpdates(1500), { mode: 'full', batchSize: 100, inFlight: 3 });
    expect(b).toEqual(a);
    expect(a.cases).toBe(1500);
    const rows = await everything(piped);
    expect(rows).toEqual(await everything(serial));
    expect(rows.filter((c) => (c as { caseName: string }).caseName.startsWith('Renamed'))).toHaveLength(40);
  });

  it('encrypted: the same cases, readable after reopening with the key', async () => {
    const c = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);
    const plain = connect('plain-ref');
    await ingestRestore(plain, withUpdates(600), { mode: 'full', batchSize: 50 });
    const sealed = connect('sealed', c);
    await ingestRestore(sealed, withUpdates(600), { mode: 'full', batchSize: 50, inFlight: 2 });
    expect(await everything(sealed)).toEqual(await everything(plain));
  });

  it('a stream that dies after some batches were queued keeps the old generation', async () => {
    const db = connect('dies');
    await ingestRestore(db, streamOfChunks(synthRestoreChunks(300).chunks), { mode: 'full' });
    const before = await everything(db);
    const { chunks } = synthRestoreChunks(2000);
    let i = 0;
    const dying = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        const chunk = chunks[i++];
        if (i > chunks.length / 2) ctrl.error(new TypeError('connection reset'));
        else if (chunk) ctrl.enqueue(chunk);
      },
    });
    let err: unknown;
    try {
      await ingestRestore(db, dying, { mode: 'full', batchSize: 100, inFlight: 3 });
    } catch (e) {
      err = e;
    }
    expect(isFieldsimError(err) && err.code).toBe('network-error');
    expect(await everything(db)).toEqual(before);
    // Nothing of the dead generation is left behind once the next restore cleaned up.
    await ingestRestore(db, streamOfChunks(synthRestoreChunks(300).chunks), { mode: 'full' });
    const gens = new Set((await db.casePages.toCollection().primaryKeys()).map(([g]) => g));
    expect(gens.size).toBe(1);
  });

  it('sealing that finishes out of order still commits the batches in order (the tail page is not rolled back)', async () => {
    const key = (await createDataKey('pw', { iterations: 1000 })).key;
    let calls = 0;
    // The first batch's records take longest to seal, so later batches are sealed first.
    const slowFirst = {
      getRandomValues: <T extends ArrayBufferView>(a: T): T => crypto.getRandomValues(a as never) as T,
      subtle: {
        encrypt: async (...args: Parameters<SubtleCrypto['encrypt']>) => {
          const n = calls++;
          await new Promise((r) => setTimeout(r, n < 8 ? 60 : 0));
          return crypto.subtle.encrypt(...args);
        },
        decrypt: (...args: Parameters<SubtleCrypto['decrypt']>) => crypto.subtle.decrypt(...args),
      },
    } as unknown as Crypto;
    const plain = connect('order-ref');
    const ref = await ingestRestore(plain, withUpdates(400), { mode: 'full', batchSize: 50 });
    const sealed = connect('order-sealed', new RecordCipher(key, slowFirst));
    const r = await ingestRestore(sealed, withUpdates(400), { mode: 'full', batchSize: 50, inFlight: 3 });
    expect(r).toEqual(ref);
    expect(calls).toBeGreaterThan(8);
    expect(await everything(sealed)).toEqual(await everything(plain));
    expect(await new CaseDb(sealed).count()).toBe(400);
  });

  it('a batch whose sealing fails: typed error, old generation kept, no staged page left behind', async () => {
    const key = (await createDataKey('pw', { iterations: 1000 })).key;
    let calls = 0;
    let failAt = Number.POSITIVE_INFINITY;
    const failing = {
      getRandomValues: <T extends ArrayBufferView>(a: T): T => crypto.getRandomValues(a as never) as T,
      subtle: {
        encrypt: async (...args: Parameters<SubtleCrypto['encrypt']>) => {
          if (calls++ === failAt) throw new DOMException('The operation failed', 'OperationError');
          // Later batches are still sealing when the failure surfaces.
          await new Promise((r) => setTimeout(r, 5));
          return crypto.subtle.encrypt(...args);
        },
        decrypt: (...args: Parameters<SubtleCrypto['decrypt']>) => crypto.subtle.decrypt(...args),
      },
    } as unknown as Crypto;
    const db = connect('seal-fails', new RecordCipher(key, failing));
    await ingestRestore(db, streamOfChunks(synthRestoreChunks(100).chunks), { mode: 'full' });
    const before = await everything(db);
    const live = new Set((await db.casePages.toCollection().primaryKeys()).map(([g]) => g));
    failAt = calls + 20;
    let err: unknown;
    try {
      await ingestRestore(db, streamOfChunks(synthRestoreChunks(1200).chunks), {
        mode: 'full',
        batchSize: 50,
        inFlight: 3,
      });
    } catch (e) {
      err = e;
    }
    expect(isFieldsimError(err) && err.code).toBe('storage-error');
    expect(await everything(db)).toEqual(before);
    const gens = new Set((await db.casePages.toCollection().primaryKeys()).map(([g]) => g));
    expect(gens).toEqual(live);
  });
});
