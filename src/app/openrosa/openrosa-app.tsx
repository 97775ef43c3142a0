import { useState } from 'preact/hooks';
import type { FormListEntry } from '../../core/openrosa/form-list.ts';
import { describeError } from '../state/describe-error.ts';
import { connect, counts, device, disconnect, refreshCounts } from './openrosa-device.ts';
import { OpenRosaFormView } from './openrosa-form-view.tsx';
import { openRosaMode } from './openrosa-mode.ts';

/** The generic OpenRosa server mode: connect, then the form list, a form, the outbox counts. */
export function OpenRosaApp() {
  return device.value ? <OpenRosaHome /> : <OpenRosaLogin />;
}

function OpenRosaLogin() {
  const [url, setUrl] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setWorking(true);
    try {
      await connect({ url: url.trim(), username: username.trim(), password });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setWorking(false);
    }
  };
  return (
    <main id="main" class="login">
      <div class="card stack">
        <h1>Generic OpenRosa server</h1>
        <p class="muted">
          ODK Central, ODK Aggregate or Kobo: fill their forms and send them as ODK Collect does.
        </p>
        <form class="stack" onSubmit={submit} aria-describedby={error ? 'openrosa-error' : undefined}>
          <label>
            Server URL
            <input
              type="url"
              name="openrosa-url"
              autocapitalize="none"
              spellcheck={false}
              value={url}
              onInput={(e) => setUrl(e.currentTarget.value)}
              disabled={working}
              required
              aria-describedby="openrosa-url-hint"
            />
          </label>
          <span id="openrosa-url-hint" class="hint">
            A Central project (https://central.example.org/v1/projects/1) or an app user's link
            (…/v1/key/&lt;token&gt;/projects/1), or an Aggregate or Kobo server. The server must allow this
            page's origin (CORS) or be reached through a same-origin proxy.
          </span>
          <label>
            Username
            <input
              name="openrosa-username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
              disabled={working}
              aria-describedby="openrosa-cred-hint"
            />
          </label>
          <label>
            Password
            <input
              type="password"
              name="openrosa-password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              disabled={working}
            />
          </label>
          <span id="openrosa-cred-hint" class="hint">
            Leave both empty for an app user's link. The password stays in this tab's memory only.
          </span>
          {error && (
            <p id="openrosa-error" role="alert" class="field-error">
              {error}
            </p>
          )}
          <div class="row">
            <button type="submit" disabled={working}>
              Connect
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => (openRosaMode.value = false)}
              disabled={working}
            >
              Back to CommCare login
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}

function OpenRosaHome() {
  const d = device.value;
  const [open, setOpen] = useState<FormListEntry | null>(null);
  const [sending, setSending] = useState(false);
  const [report, setReport] = useState<string | null>(null);
  if (!d) return null;
  const c = counts.value;
  const sendNow = async () => {
    setSending(true);
    setReport(null);
    try {
      d.outbox.resume();
      const r = await d.outbox.send();
      setReport(
        r.stoppedBy
          ? `Not everything was sent: ${r.stoppedBy.message}`
          : `Sent ${r.sent}${r.quarantined ? `, ${r.quarantined} set aside` : ''}.`,
      );
    } catch (e) {
      setReport(describeError(e));
    } finally {
      setSending(false);
      await refreshCounts();
    }
  };
  return (
    <main id="main" class="stack" tabIndex={-1}>
      <h1>Forms</h1>
      <p class="muted">On {d.client.endpoints.baseUrl}</p>
      <div role="status" class="banner info" aria-label="Outbox">
        {c ? `Sent: ${c.sent} · Waiting: ${c.queued + c.sending} · Set aside: ${c.quarantined}` : 'Outbox…'}
        {d.outbox.paused && <div class="field-error">Paused: {d.outbox.paused.message}</div>}
      </div>
      {report && <p role="status">{report}</p>}
      {open ? (
        <OpenRosaFormView key={open.formId} entry={open} onDone={() => setOpen(null)} />
      ) : (
        <section class="card stack" aria-labelledby="openrosa-forms-h">
          <h2 id="openrosa-forms-h">Form list</h2>
          {d.forms.length === 0 && <p class="muted">This server lists no forms for you.</p>}
          <ul class="stack">
            {d.forms.map((f) => (
              <li key={f.formId}>
                <button type="button" class="secondary" onClick={() => setOpen(f)}>
                  {f.name}
                </button>{' '}
                <span class="muted">
                  {f.formId}
                  {f.version ? ` · version ${f.version}` : ''}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div class="row">
        <button type="button" onClick={() => void sendNow()} disabled={sending}>
          Send now
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            disconnect();
            openRosaMode.value = false;
          }}
        >
          Disconnect
        </button>
      </div>
    </main>
  );
}
