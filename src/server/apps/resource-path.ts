/**
 * The app file a resource `<location>` names, as a path inside the app (`suite.xml`,
 * `modules-0/forms-1.xml`), or undefined for a location outside it (a multimedia URL).
 *
 * CommCare resolves local locations against the app's install root (`./suite.xml`,
 * `jr://resource/suite.xml`) and remote ones against HQ's download folder for the build
 * (`https://<hq>/a/<domain>/apps/download/<build_id>/suite.xml`, the `app_download_file`
 * route of hq:corehq/apps/app_manager/urls.py), or relative to the file naming them.
 */
export function resourcePath(location: string): string | undefined {
  const loc = location.trim();
  if (loc.startsWith('./')) return clean(loc.slice(2));
  if (loc.startsWith('jr://resource/')) return clean(loc.slice('jr://resource/'.length));
  const m = /\/apps\/download\/[\w-]+\/([^?#]+)/.exec(loc);
  if (m) return clean(m[1] ?? '');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(loc) && !loc.startsWith('/')) return clean(loc);
  return undefined;
}

function clean(path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts.join('/');
}
