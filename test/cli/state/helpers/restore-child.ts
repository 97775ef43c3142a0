/**
 * Child process for the kill test: a full restore of N synthetic cases into the SQLite
 * store at FILE, printing a line per progress event so the parent can SIGKILL it midway.
 * Usage: tsx restore-child.ts FILE N
 */

import { streamOfChunks, synthRestoreChunks } from '../../../../bench/restore-synth.ts';
import { FieldsimDb } from '../../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../../src/core/store/restore-ingest.ts';
import { SqliteStore } from '../../../../src/node-store/sqlite-store.ts';

const [file, n] = process.argv.slice(2);
const store = SqliteStore.open(file as string);
const db = new FieldsimDb('kill-test', store.deps());
const { chunks } = synthRestoreChunks(Number(n));
process.stdout.write('start\n');
const r = await ingestRestore(db, streamOfChunks(chunks), {
  mode: 'full',
  purge: false,
  batchSize: 500,
  onProgress: () => process.stdout.write('progress\n'),
});
process.stdout.write(`done ${r.cases}\n`);
db.close();
store.close();
