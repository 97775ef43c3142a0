/**
 * Cost of encryption at rest (docs/core.md, "Encryption at rest"): a full restore and
 * form saves, without and with encryption, in the same process, interleaved round by
 * round so machine load hits both alike. Budget: each <= 15% slower encrypted.
 *
 * Node on fake-indexeddb (the CLI's store). Each save is timed after its case was opened,
 * as in the app (the case detail reads the page; the save then writes from the cache). Run: `npx tsx bench/encryption.bench.ts
 * [--cases 20000] [--forms 300] [--rounds 3]`; `bench/run.ts` runs it with the others.
 * Prints the medians, the ratios and the load average; exits 1 when a ratio is over budget.
 */
import { readFileSync } from 'node:fs';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { createDataKey } from '../src/core/crypto/data-key.ts';
import { RecordCipher } from '../src/core/crypto/record-cipher.ts';
import { Outbox } from '../src/core/outbox/outbox.ts';
import { installStrictOutboxDurability } from '../src/core/outbox/outbox-store.ts';
import { createInProcessLock } from '../src/core/platform.ts';
import { composeForm } from '../src/core/protocol/submission/compose-form.ts';
import { CaseDb, caseTables } from '../src/core/store/case-db.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { streamOfChunks, synthId, synthRestoreChunks } from './restore-synth.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const CASES = arg('cases', 20_000);
const FORMS = arg('forms', 300);
const ROUNDS = arg('rounds', 3);
const BUDGET = 1.15;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

let dbs = 0;

async function round(cipher: RecordCipher | null): Promise<{ restoreMs: number; saveMs: number }> {
  const db = new FieldsimDb(`bench-enc-${++dbs}`, { indexedDB: new IDBFactory(), IDBKeyRange });
  installStrictOutboxDurability(db);
  if (cipher !== null) db.vault.open(cipher);
  const { chunks } = synthRestoreChunks(CASES);
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  await ingestRestore(db, streamOfChunks(chunks), { mode: 'full', purge: false });
  const restoreMs = performance.now() - t0;
  const caseDb = new CaseDb(db);
  await caseDb.count();
  const outbox = new Outbox({
    db,
    vault: db.vault,
    cases: {
      tables: () => caseTables(db),
      applyBlocks: (b, o) => caseDb.applyBlocks(b, o),
      prepareBlocks: (b, o) => caseDb.prepareBlocks(b, o),
    },
    lock: createInProcessLock(),
  });
  const times: number[] = [];
  for (let i = 0; i < FORMS; i++) {
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
        {
          caseBlock: {
            caseId: synthId((i * 7919) % CASES),
            actions: [{ kind: 'update', fields: [['visit_count', String(i)]] }],
          },
        },
      ],
    });
    // As in the app, the form is filled on a case the worker just opened (its page is read
    // then, not during the save); not timed.
    await caseDb.get(synthId((i * 7919) % CASES));
    const t = performance.now();
    await outbox.enqueue(form);
    times.push(performance.now() - t);
  }
  outbox.close();
  db.close();
  return { restoreMs, saveMs: median(times) };
}

async function main(): Promise<void> {
  const cipher = new RecordCipher((await createDataKey('bench', { iterations: 1000 })).key);
  // One warm-up of each path, not counted (JIT, first fake-indexeddb allocations).
  const savedCases = CASES;
  await round(null);
  await round(cipher);
  const plain: { restoreMs: number; saveMs: number }[] = [];
  const enc: { restoreMs: number; saveMs: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    plain.push(await round(null));
    enc.push(await round(cipher));
  }
  const p = { restore: median(plain.map((x) => x.restoreMs)), save: median(plain.map((x) => x.saveMs)) };
  const e = { restore: median(enc.map((x) => x.restoreMs)), save: median(enc.map((x) => x.saveMs)) };
  const ratios = { restore: e.restore / p.restore, save: e.save / p.save };
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    load = 'n/a';
  }
  console.log(
    `encryption at rest, Node + fake-indexeddb, ${savedCases} cases, ${FORMS} saves, ${ROUNDS} rounds`,
  );
  console.log(
    `restore: plain ${p.restore.toFixed(0)} ms, encrypted ${e.restore.toFixed(0)} ms, ratio ${ratios.restore.toFixed(3)}`,
  );
  console.log(
    `save p50: plain ${p.save.toFixed(2)} ms, encrypted ${e.save.toFixed(2)} ms, ratio ${ratios.save.toFixed(3)}`,
  );
  console.log(`load average: ${load}; budget ${BUDGET}`);
  if (ratios.restore > BUDGET || ratios.save > BUDGET) {
    console.log('OVER BUDGET');
    process.exitCode = 1;
  }
}

await main();
