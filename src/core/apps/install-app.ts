import { basicAuthHeader } from '../http/basic-auth.ts';
import { httpErrorFor } from '../http/classify-response.ts';
import { toNetworkError } from '../http/is-network-error.ts';
import type { FetchLike } from '../platform.ts';
import { type AppFiles, appFilesFromMap, appFilesFromZip } from '../suite/app-files.ts';
import { appFilesFromServer } from '../suite/app-files-from-server.ts';
import type { CommCareApp } from '../suite/commcare-app.ts';
import { loadApp } from '../suite/load-app.ts';
import { parseProfile } from '../suite/parse-profile.ts';
import type { InstalledAppRecord } from './installed-app-store.ts';

/** One app the server offers (HQ's `list_apps`). */
export interface ServerAppListing {
  appId: string;
  name: string;
  version: number;
}

export interface ServerAppOptions {
  fetch?: FetchLike;
  /** Server root (`https://www.commcarehq.org`, the emulator's origin). */
  baseUrl: string;
  domain: string;
  auth?: { username: string; password: string };
}

/** An app read and checked, with every file it read, ready to store. */
export interface InstalledBuild {
  app: CommCareApp;
  files: Record<string, Uint8Array>;
}

/**
 * The project's apps from `GET /a/<domain>/apps/api/list_apps/` (HQ's `list_apps`, hq:
 * corehq/apps/app_manager/views/cli.py: name, version, app_id and the ccz URL of each
 * app). It sits behind `api_auth` only, so a mobile worker's own credentials list it: no
 * web user is needed. A phone is installed from one app's profile URL instead; this list
 * is what lets a browser offer the project's apps without asking for the app id.
 */
export async function listServerApps(opts: ServerAppOptions): Promise<ServerAppListing[]> {
  const url = `${opts.baseUrl.replace(/\/+$/, '')}/a/${encodeURIComponent(opts.domain)}/apps/api/list_apps/`;
  const res = await get(opts, url);
  const body = (await res.json()) as { applications?: unknown };
  const list = Array.isArray(body.applications) ? body.applications : [];
  const out: ServerAppListing[] = [];
  for (const a of list) {
    if (typeof a !== 'object' || a === null) continue;
    const r = a as Record<string, unknown>;
    if (typeof r.app_id !== 'string') continue;
    out.push({
      appId: r.app_id,
      name: typeof r.name === 'string' ? r.name : r.app_id,
      version: typeof r.version === 'number' ? r.version : Number(r.version) || 0,
    });
  }
  return out;
}

/**
 * The version of the app's newest build, read from its profile as the phone's update
 * check does (commcare-core `ResourceManager` compares the profile's `version` with the
 * installed one).
 */
export async function serverAppVersion(opts: ServerAppOptions & { appId: string }): Promise<number> {
  const files = appFilesFromServer(serverFilesOptions(opts));
  const bytes = await files.read('profile.ccpr');
  if (bytes === undefined) return 0;
  return parseProfile(new TextDecoder().decode(bytes)).version;
}

/** Downloads and checks an app's latest build the phone's way (profile, then each file). */
export async function downloadApp(opts: ServerAppOptions & { appId: string }): Promise<InstalledBuild> {
  return installFrom(appFilesFromServer(serverFilesOptions(opts)));
}

/** Reads and checks a `.ccz` (a zip of one build). */
export async function installFromCcz(bytes: Uint8Array): Promise<InstalledBuild> {
  return installFrom(appFilesFromZip(bytes));
}

/** Reopens a stored build without the network. */
export function openInstalledApp(rec: Pick<InstalledAppRecord, 'files'>): Promise<CommCareApp> {
  return loadApp(appFilesFromMap(rec.files));
}

/**
 * Loads the app over a source that remembers every file it answered, so exactly what the
 * install read is what gets stored; a file the loader could not find is not recorded, and
 * any failure (missing file, bad XML or XPath) throws the loader's `XFormError` naming it
 * before anything is stored.
 */
async function installFrom(source: AppFiles): Promise<InstalledBuild> {
  const files: Record<string, Uint8Array> = {};
  const recording: AppFiles = {
    async read(path) {
      const bytes = await source.read(path);
      if (bytes !== undefined) files[path] = bytes;
      return bytes;
    },
  };
  const app = await loadApp(recording);
  return { app, files };
}

function serverFilesOptions(opts: ServerAppOptions & { appId: string }) {
  return {
    baseUrl: opts.baseUrl,
    domain: opts.domain,
    appId: opts.appId,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.auth ? { auth: opts.auth } : {}),
  };
}

async function get(opts: ServerAppOptions, url: string): Promise<Response> {
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.auth) headers.authorization = basicAuthHeader(opts.auth.username, opts.auth.password);
  let res: Response;
  try {
    res = await doFetch(url, { headers });
  } catch (e) {
    throw toNetworkError(e, url);
  }
  if (!res.ok) {
    const body = await res.text().catch(() => '');
    throw httpErrorFor({ status: res.status, url, headers: res.headers, body }, Date.now());
  }
  return res;
}
