import { cached, type Db } from './database.ts';

/** An application's files by path, as a `.ccz` holds them (`suite.xml`, `modules-0/forms-0.xml`). */
export type AppFiles = Map<string, Uint8Array>;

/** One application of a domain: its current build's metadata and files. */
export interface StoredApp {
  id: string;
  domain: string;
  name: string;
  version: number;
  builtOn: string;
  isReleased: boolean;
  /** The Application Structure API document (`ApplicationResource` shape). */
  doc: Record<string, unknown>;
}

interface AppRow {
  id: string;
  domain: string;
  doc: string;
  name: string;
  version: number;
  built_on: string;
  is_released: number;
}

function fromRow(r: AppRow): StoredApp {
  return {
    id: r.id,
    domain: r.domain,
    name: r.name,
    version: r.version,
    builtOn: r.built_on,
    isReleased: r.is_released === 1,
    doc: JSON.parse(r.doc) as Record<string, unknown>,
  };
}

/** The app with this id in `domain`; an id of another domain is not found. */
export function getApp(db: Db, domain: string, id: string): StoredApp | undefined {
  const r = cached(db, 'SELECT * FROM applications WHERE id = ? AND domain = ?').get(id, domain) as
    | AppRow
    | undefined;
  return r ? fromRow(r) : undefined;
}

export function listApps(db: Db, domain: string): StoredApp[] {
  const rows = cached(db, 'SELECT * FROM applications WHERE domain = ? ORDER BY id').all(domain) as AppRow[];
  return rows.map(fromRow);
}

/**
 * Stores an app and replaces all its files in one transaction: a new build of the same
 * app id takes the place of the old one, as a phone only ever sees HQ's latest build.
 */
export function saveApp(db: Db, app: StoredApp, files: AppFiles): void {
  db.transaction(() => {
    cached(
      db,
      `INSERT INTO applications (id, domain, doc, name, version, built_on, is_released) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET domain = excluded.domain, doc = excluded.doc, name = excluded.name,
       version = excluded.version, built_on = excluded.built_on, is_released = excluded.is_released`,
    ).run(
      app.id,
      app.domain,
      JSON.stringify(app.doc),
      app.name,
      app.version,
      app.builtOn,
      app.isReleased ? 1 : 0,
    );
    cached(db, 'DELETE FROM app_files WHERE app_id = ?').run(app.id);
    const insert = cached(db, 'INSERT INTO app_files (app_id, path, data) VALUES (?, ?, ?)');
    for (const [path, data] of files) insert.run(app.id, path, Buffer.from(data));
  })();
}

/** One file of an app's build, or undefined. */
export function getAppFile(db: Db, appId: string, path: string): Uint8Array | undefined {
  const r = cached(db, 'SELECT data FROM app_files WHERE app_id = ? AND path = ?').get(appId, path) as
    | { data: Buffer }
    | undefined;
  return r ? new Uint8Array(r.data) : undefined;
}

/** Every file of an app's build, by path (empty for an app stored without files). */
export function getAppFiles(db: Db, appId: string): AppFiles {
  const rows = cached(db, 'SELECT path, data FROM app_files WHERE app_id = ? ORDER BY path').all(appId) as {
    path: string;
    data: Buffer;
  }[];
  return new Map(rows.map((r) => [r.path, new Uint8Array(r.data)]));
}
