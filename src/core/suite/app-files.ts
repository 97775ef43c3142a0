import { unzipSync } from 'fflate';
import { XFormError } from '../errors/xform-error.ts';
import { normalizeAppPath } from './resource-location.ts';

/**
 * Where an app's files come from. The loader asks for paths relative to the app root
 * (`profile.ccpr`, `suite.xml`, `modules-0/forms-0.xml`); it may also ask for an absolute
 * `http(s)://` location a profile or suite names as its `remote` copy, which only a server
 * source can answer. `undefined` means "not here" (the loader tries the next location and
 * names the file when none answers); anything else that goes wrong throws.
 */
export interface AppFiles {
  read(path: string): Promise<Uint8Array | undefined>;
  /** Every path the source holds, when it can tell (zips and maps can, a server cannot). */
  list?(): string[];
}

const encoder = new TextEncoder();

/**
 * A source over files already in memory: the CLI builds the map from a folder, the
 * emulator from its database. String values are stored as UTF-8.
 */
export function appFilesFromMap(files: Record<string, Uint8Array | string>): AppFiles {
  const map = new Map<string, Uint8Array>();
  for (const [path, body] of Object.entries(files)) {
    map.set(normalizeAppPath(path), typeof body === 'string' ? encoder.encode(body) : body);
  }
  return {
    read: (path) => Promise.resolve(map.get(normalizeAppPath(path))),
    list: () => [...map.keys()],
  };
}

/**
 * A `.ccz`: HQ's zip of one build (profile.ccpr, suite.xml, media_suite.xml, locale files,
 * modules-N/forms-M.xml and media) with paths relative to the profile
 * (hq:corehq/apps/app_manager/views/download.py `DownloadCCZ`).
 */
export function appFilesFromZip(bytes: Uint8Array): AppFiles {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new XFormError('app-invalid', `The app archive (.ccz) is not a readable zip: ${why}`, {
      file: '.ccz',
      cause: e,
    });
  }
  const files: Record<string, Uint8Array> = {};
  for (const [path, body] of Object.entries(entries)) {
    // Folders appear as empty entries ending in '/'; they hold nothing to read.
    if (!path.endsWith('/')) files[path] = body;
  }
  return appFilesFromMap(files);
}
