import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { XFormError } from '../../core/errors/xform-error.ts';
import type { AppFiles } from '../db/apps.ts';

/** Biggest app the emulator unpacks (all files together); a real CommCare app is a few MB. */
export const MAX_APP_BYTES = 200 * 1024 * 1024;

function invalid(source: string, reason: string): XFormError {
  return new XFormError('app-invalid', `${source}: ${reason}`, { file: source });
}

/**
 * Reads a `.ccz` (a zip of the app's files at its root, as HQ's `direct_ccz` builds it,
 * hq:corehq/apps/app_manager/views/cli.py) into files by path. Folder entries and macOS
 * `__MACOSX/` copies are skipped. A file that is not a zip is an `app-invalid` error.
 */
export function readCcz(bytes: Uint8Array, source: string): AppFiles {
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > MAX_APP_BYTES)
          throw invalid(source, `the archive unpacks to more than ${MAX_APP_BYTES} bytes`);
        return !f.name.endsWith('/') && !f.name.startsWith('__MACOSX/');
      },
    });
  } catch (e) {
    if (e instanceof XFormError) throw e;
    throw invalid(source, `not a readable zip archive (${e instanceof Error ? e.message : String(e)})`);
  }
  const files: AppFiles = new Map();
  for (const [name, data] of Object.entries(entries)) files.set(name.replace(/^\.\//, ''), data);
  return files;
}

/** Reads an unzipped app folder (the layout of a `.ccz`) into files by path. */
export function readAppDir(dir: string): AppFiles {
  const files: AppFiles = new Map();
  let total = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const data = new Uint8Array(readFileSync(full));
        total += data.byteLength;
        if (total > MAX_APP_BYTES) throw invalid(dir, `the folder holds more than ${MAX_APP_BYTES} bytes`);
        files.set(relative(dir, full).split(sep).join('/'), data);
      }
    }
  };
  walk(dir);
  return files;
}

/** Reads `--app` input: a folder, or a `.ccz`/zip file. Missing paths are `app-invalid`. */
export function readAppSource(source: string): AppFiles {
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch {
    throw invalid(source, 'no such file or folder');
  }
  if (isDir) return readAppDir(source);
  return readCcz(new Uint8Array(readFileSync(source)), source);
}

/** Zips an app's files as a `.ccz` (deflate, paths at the archive root). */
export function zipApp(files: AppFiles): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [path, data] of files) entries[path] = data;
  return zipSync(entries, { level: 6 });
}
