/**
 * One round of the encryption-at-rest benchmark (bench/encryption.bench.ts): a full
 * restore into a fresh database, then form saves, on whatever store `deps` opens, with
 * or without a record cipher. No Node APIs: the Chromium entry
 * (encryption-browser.entry.ts) bundles the same code, so both runtimes do the same work.
 */
import type { RecordCipher } from '../src/core/crypto/record-cipher.ts';
import { outboxForCaseDb } from '../src/core/outbox/outbox-for-case-db.ts';
import { installStrictOutboxDurability } from '../src/core/outbox/outbox-store.ts';
import type { IndexedDbDeps } from '../src/core/platform.ts';
import { composeForm } from '../src/core/protocol/submission/compose-form.ts';
import { CaseDb } from '../src/core/store/case-db.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { streamOfChunks, synthId, synthRestoreChunks } from './restore-synth.ts';

export interface RoundResult {
  restoreMs: number;
  /** Each save's wall time, ms. */
  saves: number[];
  /** Each save's CPU time, ms, when the host can tell (`cpuMs`: Node's process.cpuUsage). */
  saveCpu: number[];
  /** Whether records were sealed by the host's synchronous AES-GCM (Node) rather than WebCrypto. */
  synchronousCipher: boolean;
}

export async function encryptionRound(
  name: string,
  deps: IndexedDbDeps,
  cipher: RecordCipher | null,
  cases: number,
  forms: number,
  cpuMs?: () => number,
  /** Batch commits left in flight while parsing goes on, as the PWA's restore worker runs (3). */
  inFlight = 0,
): Promise<RoundResult> {
  const db = new FieldsimDb(name, deps);
  installStrictOutboxDurability(db);
  if (cipher !== null) db.vault.open(cipher);
  await db.open();
  const { chunks } = synthRestoreChunks(cases);
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  await ingestRestore(db, streamOfChunks(chunks), {
    mode: 'full',
    purge: false,
    ...(inFlight > 0 ? { inFlight } : {}),
  });
  const restoreMs = performance.now() - t0;
  const caseDb = new CaseDb(db);
  await caseDb.count();
  const outbox = outboxForCaseDb(db, { caseDb });
  const saves: number[] = [];
  const saveCpu: number[] = [];
  for (let i = 0; i < forms; i++) {
    const caseId = synthId((i * 7919) % cases);
    const form = composeForm({
      xmlns: 'http://example.org/visit',
      name: 'Visit',
      meta: {
        deviceId: 'bench',
        timeStart: '2026-01-01T00:00:00.000Z',
        timeEnd: '2026-01-01T00:00:01.000Z',
        username: 'w',
        userId: 'u',
        instanceId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      },
      children: [
        { name: 'weight', value: String(40 + (i % 50)) },
        { caseBlock: { caseId, actions: [{ kind: 'update', fields: [['visit_count', String(i)]] }] } },
      ],
    });
    // As in the app, the form is filled on a case the worker just opened (its page is read
    // then, not during the save); not timed.
    await caseDb.get(caseId);
    const c0 = cpuMs?.();
    const t = performance.now();
    await outbox.enqueue(form);
    saves.push(performance.now() - t);
    if (c0 !== undefined && cpuMs !== undefined) saveCpu.push(cpuMs() - c0);
  }
  const synchronousCipher = cipher !== null && db.vault.cipher()?.synchronous === true;
  outbox.close();
  db.close();
  return { restoreMs, saves, saveCpu, synchronousCipher };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/**
 * What sealing alone costs a save: the three records of a typical save (a 16-case page,
 * its summary row, the outbox row; sizes as in the rounds) sealed at once, as
 * `Outbox.enqueue` does, timed `n` times. In a browser this is WebCrypto's round trip
 * to its worker thread and back; in Node with the host AES-GCM, CPU only.
 */
export async function sealCost(cipher: RecordCipher, n: number): Promise<number[]> {
  const page = 'x'.repeat(10_000);
  const sums = 'y'.repeat(3_000);
  const row = { xml: 'z'.repeat(900), formName: 'Visit', caseIds: ['c'], attachments: [] };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await Promise.all([
      cipher.sealText('casePages', `1:${i}`, page),
      cipher.sealText('caseSums', `1:${i}`, sums),
      cipher.sealJson('outbox', `i-${i}`, row),
    ]);
    out.push(performance.now() - t);
  }
  return out;
}
