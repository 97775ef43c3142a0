import type { Hono } from 'hono';
import { zipApp } from '../apps/app-package.ts';
import { PROFILE_PATH } from '../apps/read-profile.ts';
import { rewriteProfile } from '../apps/rewrite-profile.ts';
import { type Ctx, type Env, type Hq, requireUser } from '../context.ts';
import { getApp, getAppFile, getAppFiles, listApps, type StoredApp } from '../db/apps.ts';

/** HQ's content types by extension (`download_file`, hq:corehq/apps/app_manager/views/download.py). */
const CONTENT_TYPES: Record<string, string> = {
  ccpr: 'commcare/profile',
  xml: 'application/xml',
  txt: 'text/plain; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  mp3: 'audio/mpeg',
  html: 'text/html; charset=utf-8',
};

const MEDIA_PROFILE_PATH = 'media_profile.ccpr';
const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

function origin(c: Ctx): string {
  return new URL(c.req.url).origin;
}

/** `2026-01-01T00:00:00+00:00`: HQ's `X-CommCareHQ-AppReleasedOn` (no microseconds, UTC offset). */
function releasedOn(builtOn: string): string | undefined {
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(builtOn) ? builtOn : `${builtOn.slice(0, 23)}Z`);
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** `fieldsim demo` -> `fieldsim-demo` (Django's `slugify`, as HQ names the ccz). */
function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .toLowerCase()
      .replace(/[-\s]+/g, '-') || 'app'
  );
}

/**
 * HQ's phone-facing app download endpoints (hq:corehq/apps/app_manager/urls.py and
 * download_urls.py, views/download.py, views/cli.py):
 *
 * - `GET /a/<domain>/apps/download/<app_id>/profile.ccpr` (`?latest=true`, `?username=`
 *   accepted; the emulator keeps one build per app, so both name it): the profile with its
 *   remote locations and server URLs pointing at this server (`rewriteProfile`), and
 *   `X-CommCareHQ-AppReleasedOn` for a released build, as `download_file` adds it.
 *   `media_profile.ccpr` is the same profile when the build has no file of that name.
 * - `GET /a/<domain>/apps/download/<app_id>/<path>`: any file of the build (`suite.xml`,
 *   `media_suite.xml`, `<lang>/app_strings.txt`, `modules-N/forms-M.xml`, media).
 * - `GET /a/<domain>/apps/api/download_ccz/?app_id=` (`direct_ccz`): the build as a zip;
 *   `latest=release|build|save` or `version=N` (the current build's version) accepted,
 *   with `direct_ccz`'s 400/404 JSON errors. `/a/<domain>/apps/download_ccz/` is an alias.
 * - `GET /a/<domain>/apps/api/list_apps/` (`list_apps`): the domain's apps with their ccz URL.
 *
 * HQ serves the download views without a login (the build id is the secret); the emulator
 * asks for the same credentials as the restore (Basic or ApiKey of a user of the domain),
 * so apps imported into it are not open to anyone who can reach the port.
 */
export function registerAppDownload(app: Hono<Env>, hq: Hq): void {
  const appFor = (c: Ctx, id: string): StoredApp | Response => {
    const domain = c.req.param('domain') ?? '';
    const user = requireUser(hq, c, domain);
    if (user instanceof Response) return user;
    return getApp(hq.db, domain, id) ?? c.text(`No application ${id} in project ${domain}`, 404);
  };

  app.get('/a/:domain/apps/download/:appId/*', (c) => {
    const appId = c.req.param('appId');
    const found = appFor(c, appId);
    if (found instanceof Response) return found;
    const prefix = `/apps/download/${appId}/`;
    const rawPath = c.req.path.slice(c.req.path.indexOf(prefix) + prefix.length);
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return c.text('Bad path', 400);
    }
    // HQ builds a profile with the media suite (`media_profile.ccpr`) next to the plain
    // one; a ccz holds one profile, which names the media suite, so it serves for both.
    const isProfile = path === PROFILE_PATH || path === MEDIA_PROFILE_PATH;
    const data =
      getAppFile(hq.db, found.id, path) ??
      (isProfile ? getAppFile(hq.db, found.id, PROFILE_PATH) : undefined);
    if (!data) return c.text(`No file ${path} in application ${found.id}`, 404);
    const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    };
    if (c.req.query('download') === 'true') headers['Content-Disposition'] = `attachment; filename=${path}`;
    if (isProfile) {
      const released = found.isReleased ? releasedOn(found.builtOn) : undefined;
      if (released) headers['X-CommCareHQ-AppReleasedOn'] = released;
      const body = rewriteProfile(decoder.decode(data), {
        origin: origin(c),
        domain: found.domain,
        appId: found.id,
      });
      return c.body(body, 200, headers);
    }
    return c.body(new Uint8Array(data), 200, headers);
  });

  // `direct_ccz`: JSON errors `{"status": "error", "message": ...}` as HQ answers them.
  const directCcz = (c: Ctx): Response => {
    const domain = c.req.param('domain') ?? '';
    const user = requireUser(hq, c, domain);
    if (user instanceof Response) return user;
    const error = (message: string, status: 400 | 404 = 400) => c.json({ status: 'error', message }, status);
    const appId = c.req.query('app_id');
    const version = c.req.query('version');
    const latest = c.req.query('latest');
    if (!appId) return error('You must specify `app_id` in your GET parameters');
    if (version && latest) return error("You can't specify both 'version' and 'latest'");
    if (latest !== undefined && !['release', 'build', 'save'].includes(latest))
      return error("latest must be either 'release', 'build', or 'save'");
    if (version !== undefined && !/^-?\d+$/.test(version)) return error("'version' must be an integer");
    const found = getApp(hq.db, domain, appId);
    if (!found || (version !== undefined && Number(version) !== found.version))
      return error('Application not found', 404);
    const files = getAppFiles(hq.db, found.id);
    if (files.size === 0) return error('Application not found', 404);
    // The zip's profile names this server too, so a phone installed from it updates from here.
    const profile = files.get(PROFILE_PATH);
    if (profile)
      files.set(
        PROFILE_PATH,
        encoder.encode(
          rewriteProfile(decoder.decode(profile), { origin: origin(c), domain, appId: found.id }),
        ),
      );
    const zip = zipApp(files);
    return c.body(new Uint8Array(zip), 200, {
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="${slug(found.name)}.ccz"`,
      'Content-Length': String(zip.byteLength),
    });
  };
  for (const p of [
    '/a/:domain/apps/api/download_ccz/',
    '/a/:domain/apps/api/download_ccz',
    '/a/:domain/apps/download_ccz/',
    '/a/:domain/apps/download_ccz',
  ])
    app.get(p, directCcz);

  app.get('/a/:domain/apps/api/list_apps/', (c) => {
    const domain = c.req.param('domain');
    const user = requireUser(hq, c, domain);
    if (user instanceof Response) return user;
    const base = `${origin(c)}/a/${encodeURIComponent(domain)}/apps/api/download_ccz/`;
    return c.json({
      status: 'success',
      applications: listApps(hq.db, domain).map((a) => ({
        name: a.name,
        version: a.version,
        app_id: a.id,
        download_url: `${base}?app_id=${encodeURIComponent(a.id)}`,
      })),
    });
  });
}
