import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fullUsername } from '../../core/http/basic-auth.ts';
import type { AppFiles } from '../../core/suite/app-files.ts';
import { appFilesFromMap, appFilesFromZip } from '../../core/suite/app-files.ts';
import { appFilesFromServer } from '../../core/suite/app-files-from-server.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { loadApp } from '../../core/suite/load-app.ts';
import { UsageError } from '../worker-options.ts';

/** How `APP` was given on the command line, and what a server URL needs besides. */
export interface AppArgOptions {
  appId?: string;
  domain?: string;
  user?: string;
  password?: string;
}

/**
 * Reads `APP` as the `app` commands take it: a `.ccz` file, an unzipped app folder (the
 * files a `.ccz` holds, `profile.ccpr` at its top), or a server URL with `--app-id`
 * (HQ's phone download URLs; `--domain` unless the URL names `/a/<domain>/`).
 */
export async function loadAppArg(app: string, opts: AppArgOptions): Promise<CommCareApp> {
  return loadApp(appFilesFor(app, opts));
}

export function appFilesFor(app: string, opts: AppArgOptions): AppFiles {
  if (/^https?:\/\//i.test(app)) return serverFiles(app, opts);
  const st = statSync(app, { throwIfNoEntry: false });
  if (st === undefined) throw new UsageError(`No such app file or folder: ${app}`);
  if (st.isDirectory()) return appFilesFromMap(readFolder(app));
  return appFilesFromZip(new Uint8Array(readFileSync(app)));
}

function readFolder(root: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(root, p).split(sep).join('/')] = new Uint8Array(readFileSync(p));
    }
  };
  walk(root);
  return files;
}

function serverFiles(raw: string, opts: AppArgOptions): AppFiles {
  const url = new URL(raw);
  // `.../a/<domain>/apps/download/<app_id>/...` names both; otherwise flags do.
  const m = /\/a\/([^/]+)\/apps\/download\/([^/]+)/.exec(url.pathname);
  const domain = opts.domain ?? (m ? decodeURIComponent(m[1] as string) : undefined);
  const appId = opts.appId ?? (m ? decodeURIComponent(m[2] as string) : undefined);
  if (domain === undefined) throw new UsageError('A server APP needs --domain (or a URL with /a/<domain>/)');
  if (appId === undefined) throw new UsageError('A server APP needs --app-id');
  const base = m ? `${url.origin}${url.pathname.slice(0, m.index)}` : `${url.origin}${url.pathname}`;
  const password = opts.password ?? process.env.FIELDSIM_PASSWORD;
  const user = opts.user ?? process.env.FIELDSIM_USER;
  return appFilesFromServer({
    baseUrl: base.replace(/\/+$/, '') || url.origin,
    domain,
    appId,
    ...(user !== undefined && password !== undefined
      ? { auth: { username: fullUsername(user, domain), password } }
      : {}),
  });
}
