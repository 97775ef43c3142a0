import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { getApp, getAppFile, getAppFiles, listApps, saveApp } from '../../../src/server/db/apps.ts';
import { DB_FILE, openDatabase } from '../../../src/server/db/database.ts';
import { createEmulator } from '../../../src/server/emulator.ts';
import { DEMO_APP_ID, demoApplication } from '../../../src/server/seed/demo-app.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fieldsim-apps-db-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('app storage', () => {
  it('saves an app with its files, replaces all files on a new build, keeps domains apart', () => {
    const db = openDatabase(tempDir());
    const app = {
      id: 'a1',
      domain: 'd1',
      name: 'One',
      version: 1,
      builtOn: '2026-01-01T00:00:00.000000',
      isReleased: true,
      doc: { id: 'a1' },
    };
    saveApp(
      db,
      app,
      new Map([
        ['suite.xml', new Uint8Array([1, 2])],
        ['old.txt', new Uint8Array([3])],
      ]),
    );
    expect(getApp(db, 'd1', 'a1')).toEqual(app);
    expect(getApp(db, 'd2', 'a1')).toBeUndefined();
    expect(getAppFile(db, 'a1', 'suite.xml')).toEqual(new Uint8Array([1, 2]));
    saveApp(db, { ...app, version: 2, name: 'One v2' }, new Map([['suite.xml', new Uint8Array([9])]]));
    expect(getApp(db, 'd1', 'a1')?.version).toBe(2);
    expect([...getAppFiles(db, 'a1').keys()]).toEqual(['suite.xml']);
    expect(getAppFile(db, 'a1', 'old.txt')).toBeUndefined();
    expect(listApps(db, 'd1').map((a) => a.name)).toEqual(['One v2']);
    db.close();
  });

  it('gives a database from before app files the new columns and the demo app its files', () => {
    const dataDir = tempDir();
    mkdirSync(dataDir, { recursive: true });
    const old = new Database(join(dataDir, DB_FILE));
    old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE applications (id TEXT PRIMARY KEY, domain TEXT NOT NULL, doc TEXT NOT NULL);`);
    old.prepare("INSERT INTO meta (key, value) VALUES ('seeded', '2026-01-01T00:00:00Z')").run();
    old
      .prepare('INSERT INTO applications (id, domain, doc) VALUES (?, ?, ?)')
      .run(DEMO_APP_ID, 'demo', JSON.stringify(demoApplication()));
    old.close();

    const emulator = createEmulator({ dataDir });
    try {
      const app = getApp(emulator.db, 'demo', DEMO_APP_ID);
      expect([app?.name, app?.version, app?.isReleased]).toEqual(['fieldsim demo', 3, true]);
      expect(getAppFiles(emulator.db, DEMO_APP_ID).size).toBe(10);
      expect(new TextDecoder().decode(getAppFile(emulator.db, DEMO_APP_ID, 'profile.ccpr'))).toContain(
        `uniqueid="${DEMO_APP_ID}"`,
      );
    } finally {
      emulator.close();
    }
  });
});
