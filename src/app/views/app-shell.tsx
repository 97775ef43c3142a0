import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { networkSimulation, online } from '../platform/browser-platform.ts';
import {
  backend,
  busy,
  cancelSync,
  canSend,
  logout,
  notice,
  quarantinedCount,
  syncNow,
  syncProgress,
  undeliveredCount,
  unlock,
  unsentCount,
} from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href, type Route, route } from '../state/router.ts';
import { RestoreProgressBar, SyncStarting } from './restore-progress.tsx';

const NAV: { label: string; to: Route; match: Route['name'][] }[] = [
  { label: 'Home', to: { name: 'home' }, match: ['home'] },
  { label: 'Cases', to: { name: 'cases' }, match: ['cases', 'case'] },
  { label: 'Apps', to: { name: 'apps' }, match: ['apps', 'app'] },
  { label: 'Forms', to: { name: 'forms' }, match: ['forms', 'form', 'app-form'] },
  { label: 'Outbox', to: { name: 'outbox' }, match: ['outbox'] },
  { label: 'Diagnostics', to: { name: 'diagnostics' }, match: ['diagnostics'] },
];

/**
 * Shown on every screen of a "login as" session, so nobody mistakes it for the worker's own
 * device: the cases and every form sent are the worker's, the credentials the web user's.
 * A named region, so tests and screen-reader users find it as `Login as`.
 */
function LoginAsBanner({ worker, webUser }: { worker: string; webUser: string }) {
  return (
    <section class="login-as-banner" aria-label="Login as">
      <strong>Working as {worker}</strong>
      <span>
        {' '}
        — logged in by {webUser}. Forms are sent in {worker}'s name.
      </span>
    </section>
  );
}

function UnlockBanner({ who }: { who: string | undefined }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="banner warn"
      aria-label="Log in to send"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await unlock(password);
          setPassword('');
        } catch (err) {
          setError(describeError(err));
        }
      }}
    >
      <span class="grow">
        <strong>Log in to send.</strong> Your cases and forms are open on this device. Enter{' '}
        {who ? `the password of ${who}` : 'your password'} to send forms and sync.
      </span>
      <input
        type="password"
        aria-label="Password to send"
        placeholder="Your password"
        autocomplete="current-password"
        value={password}
        onInput={(e) => setPassword(e.currentTarget.value)}
      />
      <button type="submit">Unlock sending</button>
      {error && (
        <span role="alert" class="field-error">
          {error}
        </span>
      )}
    </form>
  );
}

const confirmLogout = signal(false);

function LogoutConfirm() {
  const n = undeliveredCount.value;
  return (
    <div class="banner warn" role="alertdialog" aria-labelledby="logout-q" aria-describedby="logout-d">
      <span class="grow">
        <strong id="logout-q">Log out with {n === 1 ? '1 form' : `${n} forms`} not sent?</strong>{' '}
        <span id="logout-d">They stay on this device and are sent when you next log in.</span>
      </span>
      <button
        type="button"
        onClick={() => {
          confirmLogout.value = false;
          void logout();
        }}
      >
        Log out anyway
      </button>
      <button type="button" class="secondary" onClick={() => (confirmLogout.value = false)}>
        Stay logged in
      </button>
    </div>
  );
}

export function AppShell({ children }: { children: ComponentChildren }) {
  const b = backend.value;
  if (!b) return null;
  const current = route.value.name;
  const n = undeliveredCount.value;
  const acting = b.info.authenticatedAs;
  const short = (u: string) => u.split('@')[0] ?? u;
  return (
    <>
      {acting && <LoginAsBanner worker={short(b.info.username)} webUser={acting.username} />}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href="#/">
          <img src="/icons/icon-192.png" alt="" width={28} height={28} />
          fieldsim
        </a>
        <span class="who">
          {b.info.username} · {b.info.domain}
          {/* The band above scrolls away; the sticky header keeps saying who logged in. */}
          {acting && <> · login as, by {acting.username}</>}
        </span>
        <span class="spacer" />
        <span
          class={`badge net ${online.value && !networkSimulation.value.offline ? 'open' : 'queued'}`}
          role="status"
        >
          {!online.value ? 'Offline' : networkSimulation.value.offline ? 'Offline (simulated)' : 'Online'}
        </span>
        <a
          href="#/outbox"
          class="button secondary"
          title="Forms not delivered: waiting to be sent or set aside"
        >
          <span aria-hidden="true">Unsent</span>
          <output aria-label="Unsent forms" class={`count-pill ${n === 0 ? 'zero' : ''}`}>
            {n}
          </output>
        </a>
        <div class="top-actions">
          <button type="button" onClick={() => void syncNow()} disabled={busy.value !== null}>
            Sync
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              if (unsentCount.value + quarantinedCount.value > 0) confirmLogout.value = true;
              else void logout();
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <nav class="main" aria-label="Main">
        {NAV.map((item) => (
          <a
            key={item.label}
            href={href(item.to)}
            aria-current={item.match.includes(current) ? 'page' : undefined}
          >
            {item.label}
          </a>
        ))}
      </nav>
      <div class="banners">
        {confirmLogout.value && <LogoutConfirm />}
        {busy.value === 'sync' && (
          <div class="banner info">
            <div class="grow">
              {/* From the first moment: a slow server otherwise leaves only a greyed button. */}
              {syncProgress.value ? (
                <RestoreProgressBar progress={syncProgress.value} label="Sync progress" />
              ) : (
                <SyncStarting sending={unsentCount.value > 0} />
              )}
            </div>
            <button type="button" class="secondary" onClick={cancelSync}>
              Cancel sync
            </button>
          </div>
        )}
        {!canSend.value && <UnlockBanner who={acting?.username} />}
        {notice.value && (
          <div
            class={`banner ${notice.value.kind === 'error' ? 'error' : 'info'}`}
            role={notice.value.kind === 'error' ? 'alert' : 'status'}
          >
            <span class="grow">{notice.value.text}</span>
            <button type="button" class="secondary" onClick={() => (notice.value = null)}>
              Dismiss
            </button>
          </div>
        )}
      </div>
      {children}
    </>
  );
}
