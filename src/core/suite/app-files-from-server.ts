import { basicAuthHeader } from '../http/basic-auth.ts';
import { httpErrorFor } from '../http/classify-response.ts';
import { toNetworkError } from '../http/is-network-error.ts';
import type { FetchLike } from '../platform.ts';
import type { AppFiles } from './app-files.ts';
import { isAbsoluteUrl, normalizeAppPath } from './resource-location.ts';

export interface AppFilesFromServerOptions {
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Server root, e.g. `https://www.commcarehq.org` or the emulator's `http://127.0.0.1:8000`. */
  baseUrl: string;
  domain: string;
  /** The app id (HQ answers with its latest build) or a build id. */
  appId: string;
  /** Basic credentials, sent only to `baseUrl`'s origin. */
  auth?: { username: string; password: string };
  /** Clock for `Retry-After` in errors. */
  now?: () => number;
}

/**
 * Reads a build the way the phone installs it from HQ: the profile from
 * `/a/<domain>/apps/download/<app_id>/profile.ccpr?latest=true`, then every other file
 * by its path under the same folder. HQ's `safe_download` answers `latest=true` for an app
 * id by redirecting to the newest build's own folder
 * (hq:corehq/apps/app_manager/decorators.py `safe_download`, views/download.py); when the
 * profile arrives from such a redirect, later files are read from that build's folder so
 * a build made during the install cannot mix in. 404 means "not here"; other failures
 * throw the usual `HttpError`/`NetworkError`.
 */
export function appFilesFromServer(opts: AppFilesFromServerOptions): AppFiles {
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const origin = new URL(opts.baseUrl).origin;
  const appFolder = `${opts.baseUrl.replace(/\/+$/, '')}/a/${encodeURIComponent(opts.domain)}/apps/download/${encodeURIComponent(opts.appId)}/`;
  let buildFolder: string | undefined;
  const headers: Record<string, string> = {};
  if (opts.auth) headers.Authorization = basicAuthHeader(opts.auth.username, opts.auth.password);

  const urlFor = (path: string): string | undefined => {
    if (isAbsoluteUrl(path)) return new URL(path).origin === origin ? path : undefined;
    const rel = normalizeAppPath(path);
    if (buildFolder !== undefined) return buildFolder + rel;
    return `${appFolder}${rel}?latest=true`;
  };

  return {
    async read(path: string): Promise<Uint8Array | undefined> {
      const url = urlFor(path);
      // A remote location on another host (HQ's absolute URLs seen from the emulator):
      // never send the credentials there; the loader tries the next location.
      if (url === undefined) return undefined;
      let res: Response;
      try {
        res = await doFetch(url, { headers });
      } catch (e) {
        throw toNetworkError(e, url);
      }
      if (res.status === 404) return undefined;
      if (!res.ok) {
        const body = await res.text().catch(() => '');
        throw httpErrorFor(
          { status: res.status, url, headers: res.headers, body },
          opts.now?.() ?? Date.now(),
        );
      }
      if (normalizeAppPath(path) === 'profile.ccpr') {
        // The folder the profile finally came from (after HQ's redirect, or the app id's
        // own folder when it was already a build) serves every other file of that build.
        const m = /^(.*\/apps\/download\/[^/]+\/)profile\.ccpr(?:\?.*)?$/.exec(res.url || url);
        if (m?.[1] !== undefined) buildFolder = m[1];
      }
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}
