import { useEffect, useState } from 'preact/hooks';
import { backend, canSend } from '../state/app-state.ts';
import { href } from '../state/router.ts';
import {
  appsBusy,
  appsMessage,
  checkForApps,
  installById,
  installCczFile,
  installedApps,
  installFailures,
  loadInstalledApps,
  removeApp,
} from './installed-apps.ts';

/**
 * `Apps`: the CommCare apps installed in this browser, each opening on its root menu.
 * They come from the server the worker logged in to (checked at each sync), or from a
 * `.ccz` file for a field test without a server.
 */
export function AppsView() {
  const b = backend.value;
  const [appId, setAppId] = useState('');
  const domain = b?.info.domain ?? '';
  useEffect(() => {
    if (!domain) return;
    void loadInstalledApps(domain).then((list) => {
      // A first visit with nothing installed: fetch the project's apps now.
      if (list.length === 0) void checkForApps({ quiet: true });
    });
  }, [domain]);
  if (!b) return null;
  const list = installedApps.value ?? [];
  const busy = appsBusy.value;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Apps</h1>
      {installedApps.value === null ? (
        <p class="muted">Reading the installed apps…</p>
      ) : list.length === 0 ? (
        <p class="muted">
          {busy === 'checking'
            ? 'Looking for the project’s apps…'
            : 'No app is installed on this device yet.'}
        </p>
      ) : (
        <ul class="form-list" aria-label="Installed apps">
          {list.map((a) => (
            <li key={a.key} class="form-card">
              <a href={href({ name: 'app', appId: a.appId, data: {} })}>
                <strong>{a.name}</strong>
              </a>
              <span>
                Version {a.version}
                <span class="muted"> · {a.source === 'file' ? 'from a .ccz file' : 'from the server'}</span>
              </span>
              {a.lastError && (
                <span class="field-error" role="note">
                  Update failed{a.lastError.file ? ` (${a.lastError.file})` : ''}: {a.lastError.message}.
                  Version {a.version} stays in use.
                </span>
              )}
              {a.source === 'file' && (
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Remove ${a.name}`}
                  onClick={() => void removeApp(a)}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {installFailures.value.map((f) => (
        <p key={f.appId} class="field-error" role="alert">
          Could not install {f.name}: {f.message}
        </p>
      ))}
      {appsMessage.value && (
        <p
          role={appsMessage.value.kind === 'error' ? 'alert' : 'status'}
          class={appsMessage.value.kind === 'error' ? 'field-error' : 'banner info'}
        >
          {appsMessage.value.text}
        </p>
      )}
      <section class="card stack" aria-labelledby="apps-get-h">
        <h2 id="apps-get-h">Get apps</h2>
        <div class="row">
          <button
            type="button"
            class="secondary"
            disabled={busy !== null || !canSend.value}
            onClick={() => void checkForApps()}
          >
            {busy === 'checking' ? 'Checking…' : 'Check for updates'}
          </button>
          <label class="button secondary">
            Open a .ccz file
            <input
              type="file"
              class="visually-hidden"
              accept=".ccz,application/zip"
              disabled={busy !== null}
              onChange={(e) => {
                const f = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (f) void installCczFile(f);
              }}
            />
          </label>
        </div>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (appId.trim()) void installById(appId.trim());
          }}
        >
          <label>
            App id
            <input value={appId} autocomplete="off" onInput={(e) => setAppId(e.currentTarget.value)} />
          </label>
          <div>
            <button
              type="submit"
              class="secondary"
              disabled={busy !== null || !canSend.value || !appId.trim()}
            >
              Install app
            </button>
          </div>
        </form>
        <p class="muted">
          Apps from the server are checked for a newer version at each sync and kept on this device for
          offline work.
        </p>
      </section>
    </main>
  );
}
