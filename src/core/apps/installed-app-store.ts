import Dexie, { type Table } from 'dexie';
import type { IndexedDbDeps } from '../platform.ts';

/**
 * The CommCare apps installed on this device, kept for offline use. Like the phone, which
 * keeps its installed resources apart from the user's data (commcare-core
 * `ResourceTable`: the app is per install, users log in to it), apps live in a database of
 * their own, not in a user's database: logging out or clearing a user's data keeps them.
 * Each row holds every file of one build by path, so `loadApp(appFilesFromMap(files))`
 * reopens it without the network.
 */
export interface InstalledAppRecord {
  /** `<domain>/<appId>`: one build per app and project. */
  key: string;
  domain: string;
  /** The profile's `uniqueid` (HQ's app id). */
  appId: string;
  /** The profile's `name`. */
  name: string;
  /** The profile's `version` (HQ's build number). */
  version: number;
  /** Where it came from: the server the worker logged in to, or a `.ccz` file. */
  source: 'server' | 'file';
  files: Record<string, Uint8Array>;
  installedAt: number;
  /** The last failed install or update: the build stays as it was (the phone keeps its app too). */
  lastError?: { at: number; message: string; file?: string; version?: number };
}

export const INSTALLED_APPS_DB = 'fieldsim-apps';

class AppsDb extends Dexie {
  apps!: Table<InstalledAppRecord, string>;
  constructor(name: string, deps?: IndexedDbDeps) {
    super(name, deps ? { indexedDB: deps.indexedDB, IDBKeyRange: deps.IDBKeyRange } : {});
    deps?.backend?.install(this);
    this.version(1).stores({ apps: '&key, domain' });
  }
}

export const installedAppKey = (domain: string, appId: string): string => `${domain.toLowerCase()}/${appId}`;

export class InstalledAppStore {
  readonly #db: AppsDb;

  constructor(deps?: IndexedDbDeps, name = INSTALLED_APPS_DB) {
    this.#db = new AppsDb(name, deps);
  }

  /** The project's apps, by name. */
  async list(domain: string): Promise<InstalledAppRecord[]> {
    const rows = await this.#db.apps.where('domain').equals(domain.toLowerCase()).toArray();
    return rows.sort((a, b) => a.name.localeCompare(b.name) || a.appId.localeCompare(b.appId));
  }

  get(domain: string, appId: string): Promise<InstalledAppRecord | undefined> {
    return this.#db.apps.get(installedAppKey(domain, appId));
  }

  /** Stores a build, replacing the app's previous one. */
  async put(
    rec: Omit<InstalledAppRecord, 'key' | 'domain'> & { domain: string },
  ): Promise<InstalledAppRecord> {
    const row: InstalledAppRecord = {
      ...rec,
      domain: rec.domain.toLowerCase(),
      key: installedAppKey(rec.domain, rec.appId),
    };
    await this.#db.apps.put(row);
    return row;
  }

  /** Notes a failed update on the stored build without touching its files. */
  async noteError(
    domain: string,
    appId: string,
    error: NonNullable<InstalledAppRecord['lastError']>,
  ): Promise<void> {
    await this.#db.apps.update(installedAppKey(domain, appId), { lastError: error });
  }

  async clearError(domain: string, appId: string): Promise<void> {
    const row = await this.get(domain, appId);
    if (row?.lastError === undefined) return;
    const { lastError: _e, ...rest } = row;
    await this.#db.apps.put(rest);
  }

  async remove(domain: string, appId: string): Promise<void> {
    await this.#db.apps.delete(installedAppKey(domain, appId));
  }

  close(): void {
    this.#db.close();
  }
}
