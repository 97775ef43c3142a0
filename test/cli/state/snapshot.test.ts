import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSnapshot,
  encodeSnapshot,
  exportDatabases,
  importDatabases,
} from '../../../src/cli/state/snapshot.ts';
import { StateError } from '../../../src/cli/state/state-error.ts';
import { StateStore } from '../../../src/cli/state/state-store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-snapshot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** A database with the shapes the CLI must keep: in-line and out-of-line keys, auto-increment, indexes, Blobs. */
async function seed(factory: IDBFactory): Promise<void> {
  const open = factory.open('fieldsim:demo:worker1@demo.commcarehq.org', 30);
  open.onupgradeneeded = () => {
    const db = open.result;
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    outbox.createIndex('instanceId', 'instanceId', { unique: true });
    outbox.createIndex('state', 'state');
    db.createObjectStore('pages', { keyPath: ['gen', 'page'] });
    db.createObjectStore('loose');
  };
  const db = await req(open);
  const tx = db.transaction(['outbox', 'pages', 'loose'], 'readwrite');
  const o = tx.objectStore('outbox');
  o.add({ instanceId: 'a', state: 'queued', blob: new Blob(['héllo ✓'], { type: 'text/plain' }) });
  o.add({
    instanceId: 'b',
    state: 'sent',
    file: new File([new Uint8Array([0, 1, 2, 255])], 'photo.jpg', { type: 'image/jpeg', lastModified: 1234 }),
    bytes: new Uint8Array([9, 8, 7]).buffer,
    at: new Date(86_400_000),
    nothing: undefined,
  });
  tx.objectStore('pages').put({ gen: 1, page: 0, ids: ['x'], data: ['{"caseId":"x"}'] });
  tx.objectStore('loose').put({ v: 1 }, 'key-1');
  tx.objectStore('loose').put('plain', 42);
  await new Promise<void>((resolve) => {
    tx.oncomplete = () => resolve();
  });
  db.close();
}

describe('state snapshots', () => {
  it('round-trips every store, key, index and Blob byte for byte, at the same version', async () => {
    const a = new IDBFactory();
    await seed(a);
    const bytes = await encodeSnapshot({ savedAt: 'now', databases: await exportDatabases(a) });
    const snap = decodeSnapshot(bytes, 'mem');
    const b = new IDBFactory();
    await importDatabases(b, snap.databases);

    const db = await req(b.open('fieldsim:demo:worker1@demo.commcarehq.org'));
    expect(db.version).toBe(30);
    expect(Array.from(db.objectStoreNames).sort()).toEqual(['loose', 'outbox', 'pages']);
    const tx = db.transaction(['outbox', 'pages', 'loose'], 'readwrite');
    const o = tx.objectStore('outbox');
    expect(o.autoIncrement).toBe(true);
    expect(o.index('instanceId').unique).toBe(true);
    const rows = (await req(o.getAll())) as Record<string, unknown>[];
    const [r0, r1] = rows as [Record<string, unknown>, Record<string, unknown>];
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    const blob = r0.blob as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('text/plain');
    expect(await blob.text()).toBe('héllo ✓');
    // Node's structured clone (hence fake-indexeddb) stores a File as a Blob.
    const file = r1.file as Blob;
    expect(file.type).toBe('image/jpeg');
    expect([...new Uint8Array(await file.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    expect([...new Uint8Array(r1.bytes as ArrayBuffer)]).toEqual([9, 8, 7]);
    expect((r1.at as Date).toISOString()).toBe('1970-01-02T00:00:00.000Z');
    expect(Object.hasOwn(r1, 'nothing')).toBe(true);
    // The key generator continues after the restored keys, so new forms keep their order.
    expect(await req(o.add({ instanceId: 'c', state: 'queued' }))).toBe(3);
    await expect(req(o.add({ instanceId: 'a', state: 'queued' }))).rejects.toMatchObject({
      name: 'ConstraintError',
    });
    db.close();
    const db2 = await req(b.open('fieldsim:demo:worker1@demo.commcarehq.org'));
    const t2 = db2.transaction(['pages', 'loose'], 'readonly');
    expect(await req(t2.objectStore('pages').get([1, 0]))).toEqual({
      gen: 1,
      page: 0,
      ids: ['x'],
      data: ['{"caseId":"x"}'],
    });
    expect(await req(t2.objectStore('loose').get('key-1'))).toEqual({ v: 1 });
    expect(await req(t2.objectStore('loose').get(42))).toBe('plain');
    db2.close();
  });

  it('keeps a File a File (name, type, lastModified) outside IndexedDB too', async () => {
    const f = new File([new Uint8Array([1, 2])], 'a.bin', { type: 'application/x-a', lastModified: 99 });
    const bytes = await encodeSnapshot({
      savedAt: 'x',
      databases: [
        {
          name: 'd',
          version: 1,
          stores: [
            {
              name: 's',
              keyPath: null,
              autoIncrement: false,
              indexes: [],
              keys: ['k'],
              values: [{ f, again: f }],
            },
          ],
        },
      ],
    });
    const v = decodeSnapshot(bytes, 'mem').databases[0]?.stores[0]?.values[0] as { f: File; again: File };
    expect(v.f).toBeInstanceOf(File);
    expect([v.f.name, v.f.type, v.f.lastModified, v.f.size]).toEqual(['a.bin', 'application/x-a', 99, 2]);
    expect(v.again).toBe(v.f);
  });

  it('turns a truncated, altered or foreign file into a typed state-corrupt error', async () => {
    const a = new IDBFactory();
    await seed(a);
    const good = await encodeSnapshot({ savedAt: 'now', databases: await exportDatabases(a) });
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10] = (flipped[flipped.length - 10] ?? 0) ^ 0xff;
    for (const bad of [
      good.subarray(0, good.length - 1),
      good.subarray(0, 20),
      flipped,
      Buffer.from('{"x":1}'),
    ]) {
      let err: unknown;
      try {
        decodeSnapshot(bad, '/state/db.snapshot');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({ code: 'state-corrupt', path: '/state/db.snapshot' });
    }
  });

  it('a corrupt snapshot in a user folder fails loadInto with state-corrupt and is left as it was', async () => {
    const store = new StateStore(join(tmp, 'corrupt'));
    const id = { server: 'http://127.0.0.1:8000', domain: 'demo', username: 'worker1@demo.commcarehq.org' };
    const user = store.open(id, 'test');
    try {
      writeFileSync(user.snapshotPath, 'FIELDSIM-STATE\n\0\0\0\x01garbage');
      await expect(user.loadInto(new IDBFactory())).rejects.toMatchObject({ code: 'state-corrupt' });
      expect(readFileSync(user.snapshotPath, 'latin1')).toBe('FIELDSIM-STATE\n\0\0\0\x01garbage');
      writeFileSync(user.sessionPath, '{not json');
      expect(() => user.readSession()).toThrow(StateError);
    } finally {
      user.release();
    }
  });

  it('saveFrom then loadInto through the state folder restores the database', async () => {
    const store = new StateStore(join(tmp, 'roundtrip'));
    const id = { server: 'http://127.0.0.1:8000', domain: 'demo', username: 'worker1@demo.commcarehq.org' };
    const a = new IDBFactory();
    await seed(a);
    const u1 = store.open(id, 'save');
    const size = await u1.saveFrom(a);
    u1.release();
    expect(size).toBeGreaterThan(100);
    const u2 = store.open(id, 'load');
    const b = new IDBFactory();
    expect(await u2.loadInto(b)).toBe(true);
    u2.release();
    expect(await exportDatabases(b)).toEqual(await exportDatabases(a));
  });
});
