import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { streamOfChunks, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { SqliteStore } from '../../../src/node-store/sqlite-store.ts';

/**
 * A full restore's staged generation is written with synchronous=NORMAL and no automatic
 * checkpoint (sqlite-tx-queue.ts); the switch and every later write sync again (FULL).
 */
const dir = mkdtempSync(join(tmpdir(), 'fieldsim-staged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pragma = (store: SqliteStore, name: string): number =>
  store.db.pragma(name, { simple: true }) as number;

describe('staged restore writes on an SQLite file', () => {
  it('batches commit without fsync while staging; the switch and later writes use FULL', async () => {
    const store = SqliteStore.open(join(dir, 'db.sqlite'));
    const db = new FieldsimDb('staged', store.deps());
    const seen = new Set<string>();
    const { chunks } = synthRestoreChunks(3000);
    const r = await ingestRestore(db, streamOfChunks(chunks), {
      mode: 'full',
      onProgress: (p) => {
        if (p.phase === 'downloading' && p.casesWritten > 0)
          seen.add(`${pragma(store, 'synchronous')}/${pragma(store, 'wal_autocheckpoint')}`);
      },
    });
    expect(r.cases).toBe(3000);
    // NORMAL (1) with checkpoints off while the staged pages went in.
    expect([...seen]).toEqual(['1/0']);
    // The switch transaction ran with FULL (2) and checkpoints back on.
    expect(pragma(store, 'synchronous')).toBe(2);
    expect(pragma(store, 'wal_autocheckpoint')).toBe(1000);
    await db.meta.put({ key: 'after', value: 1 });
    expect(pragma(store, 'synchronous')).toBe(2);
    db.close();
    store.close();
  });

  it('a failed restore ends staging too', async () => {
    const store = SqliteStore.open(join(dir, 'db2.sqlite'));
    const db = new FieldsimDb('staged2', store.deps());
    const { chunks } = synthRestoreChunks(600);
    const cut = [...chunks.slice(0, -1), new TextEncoder().encode('<case><broken')];
    await expect(ingestRestore(db, streamOfChunks(cut), { mode: 'full' })).rejects.toThrow();
    await db.meta.put({ key: 'after', value: 1 });
    expect(pragma(store, 'synchronous')).toBe(2);
    expect(pragma(store, 'wal_autocheckpoint')).toBe(1000);
    db.close();
    store.close();
  });

  it('in-memory stores (the QA runner) keep their settings (no sync to relax)', async () => {
    const store = SqliteStore.open(':memory:');
    const db = new FieldsimDb('staged3', store.deps());
    const { chunks } = synthRestoreChunks(500);
    await ingestRestore(db, streamOfChunks(chunks), { mode: 'full' });
    expect(pragma(store, 'synchronous')).toBe(0);
    db.close();
    store.close();
  });
});
