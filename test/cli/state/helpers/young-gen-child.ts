import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { streamOfChunks, synthRestoreChunks } from '../../../../bench/restore-synth.ts';
import { FieldsimDb } from '../../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../../src/core/store/restore-ingest.ts';
import { SqliteStore } from '../../../../src/node-store/sqlite-store.ts';

/**
 * Run in a fresh process by young-gen-cap.test.ts (a test runner's own worker has a new
 * space of its own history): prints the main thread's new-space size in MB at each step.
 */
const mb = (): number =>
  Math.round((getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576);
// Short-lived objects of which a large share survives a scavenge: what makes V8 grow it.
let keep: unknown[] = [];
function churn(n: number): void {
  for (let i = 0; i < n; i++) {
    keep.push({ a: i, b: `x${i}` });
    if (keep.length > 200_000) keep = [];
  }
}
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

const dir = mkdtempSync(join(tmpdir(), 'fieldsim-young-gen-'));
const out: Record<string, number> = { start: mb() };
const store = SqliteStore.open(join(dir, 'db.sqlite'));
// In small steps: the cap looks every 20 ms, and a long synchronous stretch could grow
// the space twice between two looks.
for (let i = 0; i < 60; i++) {
  churn(20_000);
  await tick();
}
out.open = mb();
const db = new FieldsimDb('t', store.deps());
const { chunks } = synthRestoreChunks(3000);
const r = await ingestRestore(db, streamOfChunks(chunks), { mode: 'full' });
for (let i = 0; i < 20; i++) {
  churn(2_000_000);
  await tick();
}
out.restored = mb();
out.cases = r.cases;
db.close();
store.close();
for (let i = 0; i < 20; i++) churn(2_000_000);
out.closed = mb();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
