import { useSignalEffect } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import {
  backend,
  caseVersion,
  incompleteCount,
  lastSent,
  lastSync,
  quarantinedCount,
  unsentCount,
} from '../state/app-state.ts';
import { formatBytes } from './restore-progress.tsx';

/** CommCare's "sync strongly needed": more than 5 unsent forms or more than 5 days since a sync. */
export function syncStronglyNeeded(unsent: number, lastSyncMs: number | null, now: number): boolean {
  const FIVE_DAYS = 5 * 24 * 60 * 60 * 1000;
  return unsent > 5 || lastSyncMs === null || now - lastSyncMs > FIVE_DAYS;
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'never';
  return new Date(ms).toLocaleString();
}

export interface StorageState {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

export async function readStorage(): Promise<StorageState> {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!s) return { usage: null, quota: null, persisted: null };
  const [est, persisted] = await Promise.all([
    s.estimate ? s.estimate() : Promise.resolve<StorageEstimate>({}),
    s.persisted ? s.persisted() : Promise.resolve(false),
  ]);
  return { usage: est.usage ?? null, quota: est.quota ?? null, persisted };
}

export function StorageSummary() {
  const [st, setSt] = useState<StorageState | null>(null);
  const [asked, setAsked] = useState(false);
  useEffect(() => {
    void readStorage().then(setSt);
  }, []);
  if (!st) return <p class="muted">Reading storage…</p>;
  return (
    <div class="stack">
      <p>
        Storage used: <strong>{st.usage === null ? 'unknown' : formatBytes(st.usage)}</strong>
        {st.quota !== null && <> of {formatBytes(st.quota)} available</>}
      </p>
      <p>
        Storage is{' '}
        <strong>
          {st.persisted === null
            ? 'of unknown kind'
            : st.persisted
              ? 'persistent'
              : 'not persistent (the browser may clear it)'}
        </strong>
      </p>
      {st.persisted === false && (
        <div>
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              setAsked(true);
              await navigator.storage.persist?.();
              setSt(await readStorage());
            }}
          >
            Ask to keep data
          </button>
          {asked && !st.persisted && <p class="muted">The browser did not grant persistent storage.</p>}
        </div>
      )}
    </div>
  );
}

export function HomeView() {
  const b = backend.value;
  const [cases, setCases] = useState<number | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  useSignalEffect(() => {
    void caseVersion.value;
    const current = backend.value;
    if (!current) return;
    void current.queryCases({ status: 'all', limit: 0 }).then((p) => setCases(p.total));
    // Also the case list's default (open cases), whose sorted list the catalog then keeps:
    // opening Cases right after Home does not filter 100k cases on the way.
    void current.queryCases({ status: 'open', limit: 0 }).then((p) => setOpen(p.total));
  });
  if (!b) return null;
  const strongly = syncStronglyNeeded(unsentCount.value, lastSync.value, Date.now());
  return (
    <main id="main" tabIndex={-1}>
      <h1>Home</h1>
      {strongly && (
        <div class="banner warn" role="status">
          <strong>Sync strongly needed.</strong>
          <span>
            {unsentCount.value > 5
              ? `${unsentCount.value} forms are waiting to be sent.`
              : lastSync.value === null
                ? 'This device has not synced since login.'
                : 'The last sync was more than 5 days ago.'}
          </span>
        </div>
      )}
      <section class="stats" aria-label="Summary">
        <div class="stat">
          <div class="v">{cases ?? '…'}</div>
          <div class="k">Cases on this device</div>
        </div>
        <div class="stat">
          <div class="v">{open ?? '…'}</div>
          <div class="k">Open cases</div>
        </div>
        <div class="stat">
          <div class="v">{unsentCount.value}</div>
          <div class="k">Waiting to send</div>
        </div>
        <div class="stat">
          <div class="v">{quarantinedCount.value}</div>
          <div class="k">Quarantined</div>
        </div>
        <div class="stat">
          <div class="v">{incompleteCount.value}</div>
          <div class="k">Incomplete</div>
        </div>
        <div class="stat">
          <div class="v" style={{ fontSize: '1rem' }}>
            {formatTime(lastSync.value)}
          </div>
          <div class="k">Last sync</div>
        </div>
        <div class="stat">
          <div class="v" style={{ fontSize: '1rem' }}>
            {formatTime(lastSent.value)}
          </div>
          <div class="k">Last form sent</div>
        </div>
      </section>
      <section class="card" aria-labelledby="storage-h">
        <h2 id="storage-h">Storage</h2>
        <StorageSummary />
      </section>
      <section class="card">
        <h2>Start</h2>
        <div class="row">
          <a class="button" href="#/cases">
            Open case list
          </a>
          <a class="button secondary" href="#/forms/register">
            Register a household
          </a>
        </div>
      </section>
    </main>
  );
}
