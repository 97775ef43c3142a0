/**
 * Chromium side of the outbox benchmark (bundled by bench/outbox.bench.ts): compose +
 * local apply + enqueue per form through the real Session, over Chromium's on-disk
 * IndexedDB, on a case database loaded from a synthetic restore.
 *
 * The main series alternates a registration (a new member indexed to a household) and an
 * update of a household, as every run since the first did. A save writes without reading
 * first when the page it needs is one its connection holds (the tail page it last wrote,
 * a page it just read or wrote, see store/case-writer.ts); the households are updated in
 * order, so most of these updates hit a page held from the update before. The `cold`
 * series shows the other case: updates of members on pages this session never read or
 * wrote, which read their page (with the state row) before writing.
 */
import { registerCaseForm, Session, updateCaseForm } from '../src/core/index.ts';
import { installStrictOutboxDurability } from '../src/core/outbox/outbox-store.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { SYNTH_USER, streamOfChunks, synthId, synthRestoreChunks } from './restore-synth.ts';

const deps = { indexedDB, IDBKeyRange };

export interface SaveTimes {
  /** Every form of the main series (register and update alternating), ms. */
  times: number[];
  register: number[];
  update: number[];
  /** Updates of cases on pages not held (read first), ms. */
  cold: number[];
}

async function saveForms(cases: number, forms: number): Promise<SaveTimes> {
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
  const out: SaveTimes = { times: [], register: [], update: [], cold: [] };
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
    const dt = performance.now() - t0;
    if (i >= 20) {
      out.times.push(dt);
      (i % 2 === 0 ? out.register : out.update).push(dt);
    }
  }
  // Members sit after the households, 16 cases to a page: one member per page, skipping
  // a page between two so no read-ahead of a neighbour helps.
  const coldCount = Math.min(100, Math.floor((cases - households) / 32) - 1);
  for (let k = 0; k < coldCount; k++) {
    const caseId = synthId(households + 32 * (k + 1) + 5);
    const t0 = performance.now();
    await session.saveForm(updateCaseForm({ caseId, properties: { checked: 'yes' } }));
    out.cold.push(performance.now() - t0);
  }
  session.close();
  db.close();
  return out;
}

declare global {
  var fieldsimOutboxBench: { saveForms: typeof saveForms };
}
globalThis.fieldsimOutboxBench = { saveForms };
