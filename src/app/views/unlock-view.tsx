import { useState } from 'preact/hooks';
import { leaveLockScreen, lockedBackend, unlockData } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { PasswordField } from './password-field.tsx';

/**
 * The lock screen: after a reload, the worker's cases and forms are encrypted on this
 * device and the key is wrapped by the password, so nothing shows until it is typed. The
 * check is local (the stored verifier, then the key unwrap), so it works offline; online,
 * the same password also allows sending. A reload keeps its screen: the hash route is not
 * touched, the app opens where it was once unlocked.
 */
export function UnlockView() {
  const b = lockedBackend.value;
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  if (!b) return null;
  const acting = b.info.authenticatedAs?.username;
  const who = acting ?? b.info.username;
  return (
    <main id="main" class="login">
      <div class="card stack">
        <div class="login-brand">
          <img src="/icons/icon-192.png" alt="" width={48} height={48} />
          <h1>Unlock fieldsim</h1>
        </div>
        <p id="unlock-why">
          {acting ? `Working as ${b.info.username}. ` : ''}The cases and forms on this device are encrypted.
          Enter the password of {who} to open them.
        </p>
        <form
          class="stack"
          aria-label="Unlock"
          aria-describedby="unlock-why"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            setWorking(true);
            try {
              await unlockData(password);
            } catch (err) {
              setError(describeError(err));
              setWorking(false);
            }
          }}
        >
          <PasswordField
            label="Password"
            name="password"
            autocomplete="current-password"
            value={password}
            onValue={setPassword}
            disabled={working}
          />
          {error && (
            <p role="alert" class="field-error">
              {error}
            </p>
          )}
          <button type="submit" disabled={working}>
            Unlock
          </button>
        </form>
        <button type="button" class="secondary" onClick={() => void leaveLockScreen()} disabled={working}>
          Log in as someone else
        </button>
      </div>
    </main>
  );
}
