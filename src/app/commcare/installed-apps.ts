import { signal } from '@preact/signals';
import {
  downloadApp,
  type InstalledBuild,
  installFromCcz,
  listServerApps,
  openInstalledApp,
  serverAppVersion,
} from '../../core/apps/install-app.ts';
import { type InstalledAppRecord, InstalledAppStore } from '../../core/apps/installed-app-store.ts';
import { XFormError } from '../../core/errors/xform-error.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { loggingFetch, networkSimulation } from '../platform/browser-platform.ts';
import type { AppBackend } from '../state/app-backend.ts';
import { backend } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';

/**
 * The CommCare apps installed in this browser for the current project (issue 13): read
 * from the server the worker logged in to (HQ's `list_apps`, then each app's profile and
 * files as the phone installs them), or from a `.ccz` file, and kept in IndexedDB so they
 * open offline. Like the phone, an app is checked for a newer build at each sync; a build
 * that fails to install leaves the previous one in place and says which file failed.
 */
export const installedApps = signal<InstalledAppRecord[] | null>(null);
/** Apps the server offers that could not be installed at all (no previous build to keep). */
export const installFailures = signal<{ appId: string; name: string; message: string }[]>([]);
export const appsBusy = signal<null | 'checking' | 'installing'>(null);
export const appsMessage = signal<{ kind: 'info' | 'error'; text: string } | null>(null);

let store: InstalledAppStore | null = null;
function appStore(): InstalledAppStore {
  store ??= new InstalledAppStore({ indexedDB: globalThis.indexedDB, IDBKeyRange: globalThis.IDBKeyRange });
  return store;
}

let loadedFor = '';
/** Reads the domain's installed apps from IndexedDB (once per domain, or when forced). */
export async function loadInstalledApps(domain: string, force = false): Promise<InstalledAppRecord[]> {
  if (!force && loadedFor === domain && installedApps.value) return installedApps.value;
  loadedFor = domain;
  const list = await appStore().list(domain);
  installedApps.value = list;
  return list;
}

/** What an `XFormError` says, with the file it is about. */
export function describeAppError(e: unknown): string {
  if (e instanceof XFormError && e.file && !e.message.includes(e.file)) return `${e.file}: ${e.message}`;
  return describeError(e);
}

const opened = new Map<string, { version: number; app: Promise<CommCareApp> }>();

/** The installed app, parsed once per build. */
export function openApp(rec: InstalledAppRecord): Promise<CommCareApp> {
  const hit = opened.get(rec.key);
  if (hit && hit.version === rec.version && hit.app) return hit.app;
  const app = openInstalledApp(rec);
  opened.set(rec.key, { version: rec.version, app });
  return app;
}

async function store_(domain: string, build: InstalledBuild, source: 'server' | 'file'): Promise<void> {
  await appStore().put({
    domain,
    appId: build.app.uniqueId,
    name: build.app.name,
    version: build.app.version,
    source,
    files: build.files,
    installedAt: Date.now(),
  });
}

function serverOptions(b: AppBackend) {
  const auth = b.serverAuth();
  return {
    fetch: loggingFetch(),
    baseUrl: b.info.serverUrl || location.origin,
    domain: b.info.domain,
    ...(auth ? { auth } : {}),
  };
}

/**
 * Installs the apps the server lists that are missing here and updates those with a newer
 * build. Quiet when offline or before the password was typed (nothing to do until then).
 */
export async function checkForApps(opts: { quiet?: boolean } = {}): Promise<void> {
  const b = backend.value;
  if (!b || appsBusy.value) return;
  const domain = b.info.domain;
  if (!navigator.onLine || networkSimulation.value.offline || !b.serverAuth()) {
    if (!opts.quiet)
      appsMessage.value = {
        kind: 'error',
        text: !b.serverAuth()
          ? 'Log in to send first: apps are downloaded with your password.'
          : 'Offline: the installed apps keep working; updates are checked when you are online.',
      };
    return;
  }
  appsBusy.value = 'checking';
  if (!opts.quiet) appsMessage.value = null;
  const failures: { appId: string; name: string; message: string }[] = [];
  let installed = 0;
  try {
    const server = serverOptions(b);
    const listed = await listServerApps(server);
    for (const l of listed) {
      const current = await appStore().get(domain, l.appId);
      try {
        const version = await serverAppVersion({ ...server, appId: l.appId });
        if (current && current.version >= version) {
          await appStore().clearError(domain, l.appId);
          continue;
        }
        const build = await downloadApp({ ...server, appId: l.appId });
        await store_(domain, build, 'server');
        installed++;
      } catch (e) {
        const message = describeAppError(e);
        if (current)
          await appStore().noteError(domain, l.appId, {
            at: Date.now(),
            message,
            ...(e instanceof XFormError && e.file ? { file: e.file } : {}),
          });
        else failures.push({ appId: l.appId, name: l.name, message });
      }
    }
    installFailures.value = failures;
    if (!opts.quiet)
      appsMessage.value = {
        kind: 'info',
        text:
          installed === 0
            ? 'The apps are up to date.'
            : `${installed === 1 ? '1 app' : `${installed} apps`} installed or updated.`,
      };
  } catch (e) {
    if (!opts.quiet)
      appsMessage.value = { kind: 'error', text: `Could not check for apps: ${describeError(e)}` };
  } finally {
    appsBusy.value = null;
    await loadInstalledApps(domain, true);
  }
}

/** Installs one app by id from the server (an app `list_apps` does not show, or a build id). */
export async function installById(appId: string): Promise<void> {
  const b = backend.value;
  if (!b) return;
  appsBusy.value = 'installing';
  appsMessage.value = null;
  try {
    if (!b.serverAuth()) throw new Error('Log in to send first: apps are downloaded with your password.');
    const build = await downloadApp({ ...serverOptions(b), appId });
    await store_(b.info.domain, build, 'server');
    appsMessage.value = { kind: 'info', text: `Installed ${build.app.name} (version ${build.app.version}).` };
  } catch (e) {
    appsMessage.value = { kind: 'error', text: `Could not install ${appId}: ${describeAppError(e)}` };
  } finally {
    appsBusy.value = null;
    await loadInstalledApps(b.info.domain, true);
  }
}

/** Installs a `.ccz` opened from a file: for a field test without any server. */
export async function installCczFile(file: File): Promise<void> {
  const b = backend.value;
  if (!b) return;
  appsBusy.value = 'installing';
  appsMessage.value = null;
  try {
    const build = await installFromCcz(new Uint8Array(await file.arrayBuffer()));
    await store_(b.info.domain, build, 'file');
    appsMessage.value = {
      kind: 'info',
      text: `Installed ${build.app.name} (version ${build.app.version}) from ${file.name}.`,
    };
  } catch (e) {
    appsMessage.value = { kind: 'error', text: `Could not open ${file.name}: ${describeAppError(e)}` };
  } finally {
    appsBusy.value = null;
    await loadInstalledApps(b.info.domain, true);
  }
}

export async function removeApp(rec: InstalledAppRecord): Promise<void> {
  await appStore().remove(rec.domain, rec.appId);
  opened.delete(rec.key);
  await loadInstalledApps(rec.domain, true);
}
