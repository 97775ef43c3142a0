/**
 * Where a `<resource>` lives. Profiles and suites list one or more `<location
 * authority="local|remote">` per resource; the phone tries them in order of preference
 * (local first, then remote) and resolves a relative location against the file that
 * declared it (commcare-core `ResourceTable.prepareResource` / `ResourceLocation`,
 * `ReferenceManager.DeriveReference` with the parent's reference as context).
 */
export interface ResourceLocation {
  authority: 'local' | 'remote';
  /** The location as written (`./suite.xml`, `jr://resource/suite.xml`, `https://...`). */
  href: string;
}

const ABSOLUTE_URL = /^https?:\/\//i;

/** `./a/../b//c` -> `b/c`; leading `/` and `./` dropped. Never climbs above the root. */
export function normalizeAppPath(path: string): string {
  const out: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The folder part of an app path (`modules-0/forms-0.xml` -> `modules-0`), `''` at the root. */
export function appPathFolder(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * The path (or absolute URL) to ask the app source for. `jr://resource/` and `jr://file/`
 * name the app root on the phone; a relative location is taken from the declaring file's
 * folder; `http(s)://` stays as it is for a server source to fetch.
 */
export function resolveLocation(href: string, declaringFile: string): string {
  const h = href.trim();
  if (ABSOLUTE_URL.test(h)) return h;
  const jr = /^jr:\/\/(?:resource|file)\/(.*)$/i.exec(h);
  if (jr) return normalizeAppPath(jr[1] ?? '');
  return normalizeAppPath(`${appPathFolder(declaringFile)}/${h}`);
}

/** Locations in the order the phone tries them: every local one, then every remote one. */
export function orderLocations(locations: readonly ResourceLocation[]): ResourceLocation[] {
  return [
    ...locations.filter((l) => l.authority === 'local'),
    ...locations.filter((l) => l.authority !== 'local'),
  ];
}

export function isAbsoluteUrl(path: string): boolean {
  return ABSOLUTE_URL.test(path);
}
