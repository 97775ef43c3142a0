import { useSignalEffect } from '@preact/signals';
import { useState } from 'preact/hooks';
import { httpLog, networkSimulation } from '../platform/browser-platform.ts';
import {
  backend,
  caseVersion,
  clearLocalData,
  exportDatabase,
  exportOutbox,
  outboxExported,
  quarantinedCount,
  unsentCount,
} from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { applyTheme, type ThemeChoice, theme } from '../state/theme.ts';
import { StorageSummary } from './home-view.tsx';
import { formatBytes } from './restore-progress.tsx';

function ClearData() {
  const [step, setStep] = useState<'idle' | 'confirm'>('idle');
  const [error, setError] = useState<string | null>(null);
  const pending = unsentCount.value + quarantinedCount.value;
  const blocked = pending > 0 && !outboxExported.value;
  return (
    <section class="card stack" aria-labelledby="clear-h">
      <h2 id="clear-h">Clear this user's data</h2>
      <p class="muted">
        Deletes this user's cases, fixtures and outbox from this device. The server keeps its copy.
      </p>
      {step === 'idle' ? (
        <div>
          <button type="button" class="secondary" onClick={() => setStep('confirm')}>
            Clear this user's data…
          </button>
        </div>
      ) : blocked ? (
        <div class="banner warn" role="alert">
          <span class="grow">
            {pending === 1 ? '1 form has' : `${pending} forms have`} not been sent. Export them before
            clearing, so nothing is lost.
          </span>
          <button
            type="button"
            onClick={() => void exportOutbox().catch((e: unknown) => setError(describeError(e)))}
          >
            Export unsent forms
          </button>
          <button type="button" class="secondary" onClick={() => setStep('idle')}>
            Cancel
          </button>
        </div>
      ) : (
        <div class="banner error" role="alertdialog" aria-label="Confirm clearing data">
          <span class="grow">Delete everything fieldsim holds for this user on this device?</span>
          <button
            type="button"
            onClick={async () => {
              try {
                await clearLocalData();
              } catch (e) {
                setError(describeError(e));
              }
            }}
          >
            Delete this user's data
          </button>
          <button type="button" class="secondary" onClick={() => setStep('idle')}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p role="alert" class="field-error">
          {error}
        </p>
      )}
    </section>
  );
}

export function DiagnosticsView() {
  const b = backend.value;
  const [ids, setIds] = useState<{ token: string | null; hash: string } | null>(null);
  useSignalEffect(() => {
    void caseVersion.value;
    const cur = backend.value;
    if (!cur) return;
    void Promise.all([cur.syncToken(), cur.caseStateHash()]).then(([token, hash]) => setIds({ token, hash }));
  });
  if (!b) return null;
  const sim = networkSimulation.value;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Diagnostics</h1>
      <section class="card" aria-labelledby="dev-h">
        <h2 id="dev-h">This device</h2>
        <dl class="props">
          <dt>Server</dt>
          <dd>{b.info.serverUrl}</dd>
          <dt>User</dt>
          <dd>
            {b.info.username} ({b.info.userId})
          </dd>
          {b.info.authenticatedAs && (
            <>
              <dt>Logged in by</dt>
              <dd>
                {b.info.authenticatedAs.username} ({b.info.authenticatedAs.userId}), login as
              </dd>
            </>
          )}
          <dt>Device ID</dt>
          <dd>{b.info.deviceId}</dd>
          <dt>Sync token</dt>
          <dd>{ids?.token ?? 'none'}</dd>
          <dt>Case-state hash</dt>
          <dd>{ids?.hash ?? '…'}</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="st-h">
        <h2 id="st-h">Storage</h2>
        <StorageSummary />
      </section>
      <section class="card" aria-labelledby="sim-h">
        <h2 id="sim-h">Network simulator</h2>
        <p class="muted">Applies to this app's own requests only; the device's network is untouched.</p>
        <div class="row">
          <label style={{ flexDirection: 'row', alignItems: 'center', gap: '0.5rem' }}>
            <input
              type="checkbox"
              style={{ width: 'auto', minHeight: 'auto' }}
              checked={sim.offline}
              onChange={(e) => (networkSimulation.value = { ...sim, offline: e.currentTarget.checked })}
            />
            Simulate offline
          </label>
          <label>
            Added latency (ms)
            <input
              type="number"
              min={0}
              step={100}
              value={sim.latencyMs}
              onChange={(e) =>
                (networkSimulation.value = {
                  ...sim,
                  latencyMs: Math.max(0, Number(e.currentTarget.value) || 0),
                })
              }
            />
          </label>
          <label>
            Failure share (%)
            <input
              type="number"
              min={0}
              max={100}
              value={Math.round(sim.failureRate * 100)}
              onChange={(e) =>
                (networkSimulation.value = {
                  ...sim,
                  failureRate: Math.min(1, Math.max(0, (Number(e.currentTarget.value) || 0) / 100)),
                })
              }
            />
          </label>
        </div>
      </section>
      <section class="card" aria-labelledby="theme-h">
        <h2 id="theme-h">Theme</h2>
        <label>
          Colour theme
          <select value={theme.value} onChange={(e) => applyTheme(e.currentTarget.value as ThemeChoice)}>
            <option value="system">Follow the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
      </section>
      <section class="card stack" aria-labelledby="export-h">
        <h2 id="export-h">Support</h2>
        <p class="muted">
          A snapshot of this user's data on this device (cases, outbox with XML, sync state) for a support
          request. It never contains your password.
        </p>
        <div>
          <button type="button" class="secondary" onClick={() => void exportDatabase()}>
            Export database
          </button>
        </div>
      </section>
      <ClearData />
      <section class="card" aria-labelledby="log-h">
        <h2 id="log-h">HTTP log</h2>
        {httpLog.value.length === 0 ? (
          <p class="muted">No requests yet.</p>
        ) : (
          // Focusable so keyboard users can scroll the wide table at 360 px (WCAG 2.1.1;
          // axe rule scrollable-region-focusable).
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll container must take focus to scroll by keyboard
          <section class="table-wrap" tabIndex={0} aria-labelledby="log-h">
            <table aria-label="HTTP log">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Method</th>
                  <th scope="col">URL</th>
                  <th scope="col">Status</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Size</th>
                </tr>
              </thead>
              <tbody>
                {httpLog.value.map((e) => (
                  <tr key={e.id}>
                    <td>{new Date(e.startedAt).toLocaleTimeString()}</td>
                    <td>{e.method}</td>
                    <td style={{ overflowWrap: 'anywhere' }}>{e.url}</td>
                    <td>{e.status}</td>
                    <td>{e.ms} ms</td>
                    <td>{e.size < 0 ? '—' : formatBytes(e.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </section>
    </main>
  );
}
