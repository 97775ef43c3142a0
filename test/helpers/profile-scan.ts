import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Scanning files on disk for data that must not be there in clear (encryption at rest,
 * issue 16): a Chromium profile's IndexedDB folders, a CLI state folder. A needle is found
 * when its UTF-8 or UTF-16LE bytes occur in a file, whole or by its first 9 characters (a
 * store may split or compress long runs).
 */

export function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(root)) {
    const p = join(root, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** The IndexedDB folders of one origin (`http://127.0.0.1:<port>`) in a persistent profile. */
export function originIndexedDbFolders(profileDir: string, origin: string): string[] {
  const idb = join(profileDir, 'Default', 'IndexedDB');
  const port = new URL(origin).port;
  return readdirSync(idb)
    .filter((d) => d.includes(`_${port}.`))
    .map((d) => join(idb, d));
}

/** Every needle found in the files under `roots`, as `needle (encoding) in file`. */
export function findInFiles(roots: string[], needles: readonly string[]): string[] {
  const found: string[] = [];
  for (const f of roots.flatMap(filesUnder)) {
    const bytes = readFileSync(f);
    for (const s of needles) {
      for (const needle of new Set([s, s.slice(0, 9)])) {
        if (bytes.includes(Buffer.from(needle, 'utf8'))) found.push(`${needle} (utf8) in ${f}`);
        if (bytes.includes(Buffer.from(needle, 'utf16le'))) found.push(`${needle} (utf16le) in ${f}`);
      }
    }
  }
  return found;
}
