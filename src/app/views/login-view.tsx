import { useRef, useState } from 'preact/hooks';
import { HqApiClient } from '../../core/api/hq-api-client.ts';
import { CryptoError } from '../../core/crypto/crypto-error.ts';
import { ESCROW_META } from '../../core/store/escrow-store.ts';
import { openRosaMode } from '../openrosa/openrosa-entry.tsx';
import { loggingFetch } from '../platform/browser-platform.ts';
import { busy, login, syncProgress } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { PasswordField } from './password-field.tsx';
import { RestoreProgressBar } from './restore-progress.tsx';

/**
 * Login: username accepts `worker1` or `worker1@demo.commcarehq.org`; the domain in a full
 * username wins over the Domain field. Server defaults to this origin (the emulator serves
 * the app and the HQ endpoints together).
 */
export function splitUsername(raw: string, domainField: string): { username: string; domain: string } {
  const u = raw.trim();
  const m = /^([^@\s]+)@([^.@\s]+)\.commcarehq\.org$/i.exec(u);
  if (m?.[1] && m[2]) return { username: m[1], domain: m[2] };
  return { username: u, domain: domainField.trim() || 'demo' };
}

interface WorkerChoice {
  username: string;
  name: string;
}

/**
 * The project's mobile workers for the `Log in as` suggestions, read with the web user's
 * credentials from the user API (PROTOCOL.md 9.4), as Web Apps lists the workers a web
 * user may log in as. HQ answers it only to web users allowed to manage workers; any
 * failure just leaves the field to be typed. Nothing is kept.
 */
async function listWorkers(serverUrl: string, domain: string, username: string, password: string) {
  const api = new HqApiClient({
    serverUrl,
    domain,
    fetch: loggingFetch(),
    auth: { kind: 'basic', username, password },
    retry: { maxAttempts: 1 },
    timeoutMs: 10_000,
  });
  const page = await api.users.list({ limit: 100 });
  return page.objects.map(
    (w): WorkerChoice => ({
      username: w.username.split('@')[0] ?? w.username,
      name: [w.first_name, w.last_name].filter(Boolean).join(' '),
    }),
  );
}

/**
 * The password was changed on the server and nothing on the device opens the data with
 * the new one (no key escrow, or a damaged one): the previous password is asked for once.
 */
function needsPreviousPassword(e: unknown): boolean {
  return (
    e instanceof CryptoError &&
    (e.code === 'password-changed' || (e.code === 'record-integrity' && e.recordKey === ESCROW_META))
  );
}

export function LoginView() {
  const [server, setServer] = useState(typeof location === 'undefined' ? '' : location.origin);
  const [domain, setDomain] = useState('demo');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [loginAs, setLoginAs] = useState('');
  const [workers, setWorkers] = useState<WorkerChoice[]>([]);
  const askedFor = useRef('');
  const [error, setError] = useState<string | null>(null);
  const [askPrevious, setAskPrevious] = useState(false);
  const [previousPassword, setPreviousPassword] = useState('');
  const working = busy.value === 'login';

  // A web user (an email, not a worker's `name@<domain>.commcarehq.org`) with a password:
  // offer the project's workers once the `Log in as` field is reached.
  const suggestWorkers = () => {
    const u = username.trim();
    if (!u.includes('@') || /\.commcarehq\.org$/i.test(u) || password === '') return;
    const parts = splitUsername(u, domain);
    const base = server.trim().replace(/\/+$/, '');
    const key = `${base}|${parts.domain}|${u}|${password}`;
    if (askedFor.current === key) return;
    askedFor.current = key;
    void listWorkers(base, parts.domain, u, password)
      .then(setWorkers)
      .catch(() => setWorkers([]));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (username.trim() === '' || password === '') {
      setError('Enter your username and password.');
      return;
    }
    const parts = splitUsername(username, domain);
    try {
      await login({
        serverUrl: server.trim().replace(/\/+$/, ''),
        domain: parts.domain,
        username: parts.username,
        password,
        ...(loginAs.trim() ? { loginAs: loginAs.trim() } : {}),
        ...(askPrevious && previousPassword !== '' ? { previousPassword } : {}),
      });
    } catch (err) {
      if (needsPreviousPassword(err)) setAskPrevious(true);
      setError(describeError(err));
    }
  };

  return (
    <main id="main" class="login">
      <div class="card stack">
        <div class="login-brand">
          <img src="/icons/icon-192.png" alt="" width={48} height={48} />
          <h1>Log in to fieldsim</h1>
        </div>
        <form class="stack" onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
          <label>
            Username
            <input
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
              disabled={working}
              required
              aria-describedby="username-hint"
            />
          </label>
          <span id="username-hint" class="hint">
            worker1 or worker1@demo.commcarehq.org
          </span>
          <PasswordField
            label="Password"
            name="password"
            autocomplete="current-password"
            value={password}
            onValue={setPassword}
            disabled={working}
          />
          {askPrevious && (
            <>
              <PasswordField
                label="Previous password"
                name="previous-password"
                autocomplete="off"
                value={previousPassword}
                onValue={setPreviousPassword}
                disabled={working}
                describedBy="previous-password-hint"
              />
              <span id="previous-password-hint" class="hint">
                Your password was changed on the server. Enter the one you used before on this device, once:
                your data is then protected by the new password.
              </span>
            </>
          )}
          <label>
            Log in as
            <input
              name="login-as"
              autocomplete="off"
              autocapitalize="none"
              spellcheck={false}
              value={loginAs}
              onInput={(e) => setLoginAs(e.currentTarget.value)}
              onFocus={suggestWorkers}
              disabled={working}
              aria-describedby="login-as-hint"
              list="login-as-workers"
            />
          </label>
          <datalist id="login-as-workers">
            {workers.map((w) => (
              <option key={w.username} value={w.username}>
                {w.name || w.username}
              </option>
            ))}
          </datalist>
          <span id="login-as-hint" class="hint">
            Optional, for web users: a mobile worker's username, to work with that worker's cases as Web Apps'
            "Login As" does.
          </span>
          <details>
            <summary>Server and project</summary>
            <div class="stack" style={{ marginTop: '0.75rem' }}>
              <label>
                Domain
                <input value={domain} onInput={(e) => setDomain(e.currentTarget.value)} disabled={working} />
              </label>
              <label>
                Server
                <input
                  type="url"
                  value={server}
                  onInput={(e) => setServer(e.currentTarget.value)}
                  disabled={working}
                  aria-describedby="server-hint"
                />
              </label>
              <span id="server-hint" class="hint">
                The local emulator by default, or a proxy to CommCare HQ.
              </span>
            </div>
          </details>
          {error && (
            <p id="login-error" role="alert" class="field-error">
              {error}
            </p>
          )}
          <button type="submit" disabled={working}>
            Log in
          </button>
        </form>
        <button
          type="button"
          class="secondary"
          onClick={() => (openRosaMode.value = true)}
          disabled={working}
        >
          Generic OpenRosa server
        </button>
        {working && syncProgress.value && (
          <RestoreProgressBar progress={syncProgress.value} label="Restoring your cases" />
        )}
      </div>
    </main>
  );
}
