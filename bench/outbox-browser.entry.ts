/**
 * Chromium side of the outbox benchmark (bundled by bench/outbox.bench.ts): compose +
 * local apply + enqueue per form through the real Session, over Chromium's on-disk
 * IndexedDB, on a case database loaded from a synthetic restore.
 */
import { registerCaseForm, Session, updateCaseForm } from '../src/core/index.ts';
import { installStrictOutboxDurability } from '../src/core/outbox/outbox-store.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { SYNTH_USER, streamOfChunks, synthId, synthRestoreChunks } from './restore-synth.ts';

const deps = { indexedDB, IDBKeyRange };

async function saveForms(cases: number, forms: number): Promise<{ times: number[] }> {
  const db = new FieldsimDb(`bench-outbox-${cases}-${Date.now()}`, deps);
  installStrictOutboxDurability(db);
  await db.open();
  const { chunks } = synthRestoreChunks(cases);
  await ingestRestore(db, streamOfChunks(chunks), { mode: 'full' });
  const session = new Session(
    db,
    { indexedDB: deps },
    { appVersion: 'bench' },
    {
      serverUrl: location.origin,
      domain: 'demo',
      username: 'bench@demo.commcarehq.org',
      userId: SYNTH_USER,
      deviceId: 'bench-device',
    },
  );
  const households = Math.max(1, Math.floor(cases / 10));
  const times: number[] = [];
  for (let i = 0; i < forms + 20; i++) {
    const parent = synthId(i % households);
    const draft =
      i % 2 === 0
        ? registerCaseForm({
            caseId: crypto.randomUUID(),
            caseType: 'member',
            caseName: `Bench ${i}`,
            properties: { age: String(i % 90) },
            parent: { caseId: parent, caseType: 'household' },
          })
        : updateCaseForm({ caseId: parent, properties: { visits: String(i) } });
    const t0 = performance.now();
    await session.saveForm(draft);
    if (i >= 20) times.push(performance.now() - t0);
  }
  session.close();
  return { times };
}

declare global {
  var fieldsimOutboxBench: { saveForms: typeof saveForms };
}
globalThis.fieldsimOutboxBench = { saveForms };
