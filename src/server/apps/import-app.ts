import { createHash } from 'node:crypto';
import { XFormError } from '../../core/errors/xform-error.ts';
import { type AppFiles, getApp, getAppFiles, type StoredApp, saveApp } from '../db/apps.ts';
import { type Db, getMeta, setMeta } from '../db/database.ts';
import { hexId } from '../ids.ts';
import type { AppDoc } from './app-doc.ts';
import { readAppSource } from './app-package.ts';
import { bumpAppVersion } from './bump-app-version.ts';
import { readAppModules } from './read-app-structure.ts';
import { readProfile } from './read-profile.ts';

export interface ImportAppResult {
  app: StoredApp;
  /** `unchanged`: the same files were imported before, nothing was written. */
  status: 'created' | 'replaced' | 'unchanged';
  /** The stored build's version before this import (replaced and unchanged). */
  previousVersion?: number;
}

/** HQ's `built_on` shape: naive UTC with microseconds. */
function builtOn(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

function filesHash(files: AppFiles): string {
  const h = createHash('sha256');
  for (const path of [...files.keys()].sort()) {
    h.update(path).update('\0');
    h.update(files.get(path) ?? new Uint8Array()).update('\0');
  }
  return h.digest('hex');
}

/**
 * Imports an app (a `.ccz` file, an unzipped app folder, or files already read) into
 * `domain`, as if HQ had built it: the profile's `uniqueid` is the app id, its `name` the
 * app's name, its `version` the build's version; every file is stored and served by the
 * download endpoints; the Application Structure API describes it from its suite and forms.
 *
 * Importing an app id again replaces the stored build. When the files differ but the
 * profile's version is not above the stored one, the new build is given the next
 * version (see `bumpAppVersion`) so phones update; the same files again change nothing.
 * Broken input (not a zip, no profile.ccpr, no suite, malformed XML) throws an
 * `app-invalid` `XFormError` naming the source and the file.
 */
export function importApp(
  db: Db,
  domain: string,
  input: string | { files: AppFiles; source: string },
): ImportAppResult {
  const source = typeof input === 'string' ? input : input.source;
  const files = typeof input === 'string' ? readAppSource(input) : input.files;
  const profile = readProfile(files, source);
  const modules = readAppModules(files, profile.suitePaths, source);
  const hash = filesHash(files);
  const hashKey = `app-source:${profile.uniqueId}`;

  const existing = db
    .prepare('SELECT domain, version FROM applications WHERE id = ?')
    .get(profile.uniqueId) as { domain: string; version: number } | undefined;
  if (existing && existing.domain !== domain)
    throw new XFormError(
      'app-invalid',
      `${source}: app id ${profile.uniqueId} (profile.ccpr uniqueid) is already used by project ${existing.domain}`,
      { file: 'profile.ccpr' },
    );
  const current = existing ? getApp(db, domain, profile.uniqueId) : undefined;
  if (current && getMeta(db, hashKey) === hash)
    return { app: current, status: 'unchanged', previousVersion: current.version };

  let version = profile.version;
  let stored = files;
  if (existing && version <= existing.version) {
    version = existing.version + 1;
    stored = bumpAppVersion(files, getAppFiles(db, profile.uniqueId), profile.suitePaths, version);
  }
  const built = builtOn();
  const comment = `imported from ${source}`;
  const doc: AppDoc = {
    id: profile.uniqueId,
    name: profile.name,
    version,
    is_released: true,
    built_on: built,
    build_comment: comment,
    built_from_app_id: null,
    modules,
    versions: [{ id: hexId(), built_on: built, build_comment: comment, is_released: true, version }],
  };
  const app: StoredApp = {
    id: profile.uniqueId,
    domain,
    name: profile.name,
    version,
    builtOn: built,
    isReleased: true,
    doc: doc as unknown as Record<string, unknown>,
  };
  db.transaction(() => {
    saveApp(db, app, stored);
    setMeta(db, hashKey, hash);
  })();
  return existing
    ? { app, status: 'replaced', previousVersion: existing.version }
    : { app, status: 'created' };
}
