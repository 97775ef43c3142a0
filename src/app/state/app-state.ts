import { computed, signal } from '@preact/signals';
import type { FormDraft } from '../../core/protocol/submission/form-types.ts';
import type { OutboxItem, RestoreProgress, SendReport } from '../../core/sync/session-types.ts';
import { networkSimulation } from '../platform/browser-platform.ts';
import { requestBackgroundSync } from '../pwa/background-sync.ts';
import type { AppBackend, BackendFactory, LoginInput } from './app-backend.ts';
import { describeError } from './describe-error.ts';
import { syncMessage } from './sync-message.ts';

/**
 * App-wide state as signals, and the actions that change it. The outbox is tried on save,
 * on start, on the browser's `online` event and on a timer; the core serialises senders
 * across tabs with the injected lock, so overlapping triggers are harmless.
 */

export const backend = signal<AppBackend | null>(null);
/**
 * A reopened session whose encrypted data waits for the password (the lock screen); it
 * becomes `backend` once unlocked.
 */
export const lockedBackend = signal<AppBackend | null>(null);
export const booting = signal(true);
export const outboxItems = signal<OutboxItem[]>([]);
/** Bumped after anything that changes local cases, so lists and details re-query. */
export const caseVersion = signal(0);
export const canSend = signal(false);
export const lastSync = signal<number | null>(null);
export const syncProgress = signal<RestoreProgress | null>(null);
export const busy = signal<null | 'login' | 'sync' | 'send'>(null);
export const lastSendReport = signal<SendReport | null>(null);
export const notice = signal<{ kind: 'info' | 'error'; text: string } | null>(null);

/** Completed forms not yet delivered (CommCare's "unsent forms"); drafts are counted apart. */
export const unsentCount = computed(
  () => outboxItems.value.filter((i) => i.state === 'queued' || i.state === 'sending').length,
);
export const incompleteCount = computed(
  () => outboxItems.value.filter((i) => i.state === 'incomplete').length,
);
export const quarantinedCount = computed(
  () => outboxItems.value.filter((i) => i.state === 'quarantined').length,
);
/**
 * What the header's `Unsent forms` shows: every completed form the server does not have,
 * set-aside (quarantined) ones included: they are not delivered either, and a worker who
 * reads 0 would log out or clear the device believing everything went.
 */
/**
 * When a form last reached the server. Kept apart from `lastSync` (the last restore): the
 * outbox sends on its own (on save, online, on a timer) without syncing, and a worker must
 * not read a send as a sync, nor miss that forms went out.
 */
export const lastSent = computed(() => {
  let last: number | null = null;
  for (const i of outboxItems.value)
    if (i.sentAt !== undefined && (last === null || i.sentAt > last)) last = i.sentAt;
  return last;
});
export const undeliveredCount = computed(() => unsentCount.value + quarantinedCount.value);

let loadFactory: (() => Promise<BackendFactory>) | null = null;
let factory: Promise<BackendFactory> | null = null;
let timer: ReturnType<typeof setInterval> | undefined;
let sendInFlight: Promise<void> | null = null;
let sendGeneration = 0;
const RETRY_EVERY_MS = 30_000;

/**
 * The core (database, protocol, outbox) is loaded after the first render, so the shell
 * paints at once and the initial JS stays small; `getFactory` starts the load once.
 */
export function setBackendFactory(load: () => Promise<BackendFactory>): void {
  loadFactory = load;
  factory = null;
}

function getFactory(): Promise<BackendFactory> {
  if (!loadFactory) return Promise.reject(new Error('no backend factory'));
  factory ??= loadFactory();
  return factory;
}

/** Why waiting forms wait: paused by the server's answer, or backing off until a time. */
export const outboxStatus = signal<{
  paused: { code: string; message: string } | null;
  nextAttemptAt: number;
}>({
  paused: null,
  nextAttemptAt: 0,
});

async function refreshOutbox(): Promise<void> {
  const b = backend.value;
  if (!b) return;
  outboxItems.value = await b.outbox();
  canSend.value = b.canSend();
  outboxStatus.value = b.outboxStatus();
  // Only while offline: Chromium fires `sync` at once when online, and a failing server
  // must be left to the outbox's backoff rather than re-tried on every change.
  if (unsentCount.value > 0 && !navigator.onLine) requestBackgroundSync();
}

let unsubscribe: (() => void) | null = null;

async function adopt(b: AppBackend, opts: { send?: boolean } = {}): Promise<void> {
  // A run of a previous session (closed by logout mid-send) must not stand in for this one.
  sendInFlight = null;
  sendGeneration++;
  backend.value = b;
  unsubscribe?.();
  unsubscribe = b.onOutboxChange(() => {
    void refreshOutbox().catch(() => undefined);
  });
  canSend.value = b.canSend();
  lastSync.value = await b.lastSync();
  await refreshOutbox();
  caseVersion.value++;
  if (timer === undefined) timer = setInterval(() => void trySend('timer'), RETRY_EVERY_MS);
  // Ask the browser not to evict this device's forms and cases under storage pressure
  // (issue 4); Home shows whether it agreed.
  void navigator.storage?.persist?.().catch(() => false);
  if (opts.send !== false) void trySend('start');
}

export async function resume(): Promise<void> {
  try {
    const b = await (await getFactory()).resume();
    if (b?.dataLocked()) lockedBackend.value = b;
    else if (b) await adopt(b);
  } catch (e) {
    notice.value = { kind: 'error', text: `Could not open local data: ${describeError(e)}` };
  } finally {
    booting.value = false;
  }
}

export async function login(input: LoginInput): Promise<void> {
  busy.value = 'login';
  syncProgress.value = { phase: 'waiting', bytes: 0, itemsDone: 0, casesWritten: 0 };
  notice.value = null;
  let restored = false;
  let b: AppBackend;
  try {
    b = await (await getFactory()).login(input, (p) => {
      restored = true;
      syncProgress.value = p;
    });
    // A fresh login starts at Home (a reload keeps its screen).
    if (location.hash !== '' && location.hash !== '#/') location.hash = '#/';
  } finally {
    busy.value = null;
    syncProgress.value = null;
  }
  // An online login onto data already on the device restores nothing; like the phone,
  // which syncs after such a login, send the waiting forms and run an incremental sync
  // (commcare-android app/src/org/commcare/activities/LoginActivity.java starts a data
  // pull on an online login), shown with the Sync button's progress and message.
  const syncAfter = b.mode === 'online' && !restored;
  await adopt(b, { send: !syncAfter });
  // The password changed on the server and the login re-wrapped the data key: said once,
  // alongside the sync's own message (which replaces any earlier notice).
  const rewrapped = () => {
    if (!b.rewrapped || backend.value !== b) return;
    const said = 'Your data was re-protected for the new password.';
    const n = notice.value;
    notice.value = n ? { kind: n.kind, text: `${said} ${n.text}` } : { kind: 'info', text: said };
  };
  if (syncAfter) void syncNow().then(rewrapped);
  else rewrapped();
}

/** The lock screen's password: opens the encrypted data (offline too), then shows the app. */
export async function unlockData(password: string): Promise<void> {
  const b = lockedBackend.value;
  if (!b) return;
  await b.unlock(password);
  lockedBackend.value = null;
  await adopt(b);
}

/** The lock screen's way out: closes the locked session (its data stays) for another login. */
export async function leaveLockScreen(): Promise<void> {
  const b = lockedBackend.value;
  lockedBackend.value = null;
  await b?.logout();
}

export async function unlock(password: string): Promise<void> {
  const b = backend.value;
  if (!b) return;
  await b.unlock(password);
  canSend.value = b.canSend();
  await trySend('unlock');
}

/** Sends the outbox if it can; quiet about network failures (the forms simply wait). */
export function trySend(why: 'save' | 'start' | 'online' | 'timer' | 'unlock' | 'manual'): Promise<void> {
  const b = backend.value;
  if (!b?.canSend()) return Promise.resolve();
  if (typeof navigator !== 'undefined' && !navigator.onLine) return Promise.resolve();
  if (networkSimulation.value.offline) return Promise.resolve();
  if (sendInFlight) return sendInFlight;
  const generation = ++sendGeneration;
  const run = (async () => {
    try {
      const report = await b.trigger(why === 'unlock' ? 'manual' : why);
      if (report) lastSendReport.value = report;
    } catch (e) {
      lastSendReport.value = {
        sent: 0,
        quarantined: 0,
        remaining: unsentCount.value,
        stoppedBy: { code: 'error', message: describeError(e) },
      };
    } finally {
      if (generation === sendGeneration) sendInFlight = null;
      await refreshOutbox().catch(() => undefined);
      caseVersion.value++;
    }
  })();
  sendInFlight = run;
  return run;
}

export async function saveForm(draft: FormDraft): Promise<OutboxItem> {
  const b = backend.value;
  if (!b) throw new Error('not logged in');
  const item = await b.saveForm(draft);
  caseVersion.value++;
  await refreshOutbox();
  void trySend('save');
  return item;
}

export async function saveDraft(draft: FormDraft, instanceId?: string): Promise<OutboxItem> {
  const b = backend.value;
  if (!b) throw new Error('not logged in');
  const item = await b.saveDraft(draft, instanceId);
  await refreshOutbox();
  return item;
}

export async function completeDraft(instanceId: string, draft: FormDraft): Promise<OutboxItem> {
  const b = backend.value;
  if (!b) throw new Error('not logged in');
  const item = await b.completeDraft(instanceId, draft);
  caseVersion.value++;
  await refreshOutbox();
  void trySend('save');
  return item;
}

export async function syncNow(): Promise<void> {
  const b = backend.value;
  if (!b || busy.value) return;
  busy.value = 'sync';
  syncProgress.value = null;
  notice.value = null;
  const controller = new AbortController();
  syncAbort = controller;
  try {
    const report = await b.syncAndSend((p) => {
      syncProgress.value = p;
    }, controller.signal);
    lastSendReport.value = report.send;
    lastSync.value = await b.lastSync();
    notice.value = report.send.stoppedBy
      ? { kind: 'error', text: `Sync stopped: ${report.send.stoppedBy.message}` }
      : { kind: 'info', text: syncMessage(report) };
  } catch (e) {
    notice.value = controller.signal.aborted
      ? {
          kind: 'info',
          text: 'Sync cancelled. Forms already sent stay sent; the cases on this device are as they were.',
        }
      : { kind: 'error', text: `Sync failed: ${describeError(e)}` };
  } finally {
    syncAbort = null;
    busy.value = null;
    syncProgress.value = null;
    await refreshOutbox().catch(() => undefined);
    caseVersion.value++;
  }
}

let syncAbort: AbortController | null = null;
export function cancelSync(): void {
  syncAbort?.abort(new DOMException('cancelled by the user', 'AbortError'));
}

export async function retryForm(instanceId: string): Promise<void> {
  const b = backend.value;
  if (!b) return;
  await b.retry(instanceId);
  await refreshOutbox();
  void trySend('manual');
}

export async function logout(): Promise<void> {
  const b = backend.value;
  unsubscribe?.();
  unsubscribe = null;
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  backend.value = null;
  outboxItems.value = [];
  lastSync.value = null;
  canSend.value = false;
  notice.value = null;
  outboxExported.value = false;
  await b?.logout();
}

export function onBrowserOnline(): void {
  void trySend('online');
}

export async function quarantineForm(instanceId: string): Promise<void> {
  const b = backend.value;
  if (!b) return;
  await b.quarantine(instanceId);
  await refreshOutbox();
  void trySend('manual');
}

function download(name: string, json: string): void {
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Offers a support snapshot of this user's local database as a JSON download. */
export async function exportDatabase(): Promise<string> {
  const b = backend.value;
  if (!b) throw new Error('not logged in');
  const name = `fieldsim-support-${b.info.username.split('@')[0]}-${stamp()}.json`;
  download(name, await b.exportDatabase());
  return name;
}

/** Offers the unsent forms as a JSON download; returns the file name. */
/** "Plain export (not encrypted)": off unless the user ticks it (see docs/pwa.md). */
export const plainExport = signal(false);

export async function exportOutbox(): Promise<string> {
  const b = backend.value;
  if (!b) throw new Error('not logged in');
  const json = await b.exportOutbox({ plain: plainExport.value });
  const name = `fieldsim-outbox-${b.info.username.split('@')[0]}-${stamp()}.json`;
  download(name, json);
  outboxExported.value = true;
  return name;
}

/** Set once the unsent forms were exported in this session (clearing data requires it). */
export const outboxExported = signal(false);

export async function importOutbox(file: File): Promise<string> {
  const b = backend.value;
  if (!b) throw new Error('not logged in');
  const r = await b.importOutbox(await file.text());
  caseVersion.value++;
  await refreshOutbox();
  void trySend('manual');
  return `Imported ${r.imported} form(s)${r.skipped ? `, ${r.skipped} already here` : ''}${r.failed ? `, ${r.failed} failed` : ''}.`;
}

/** Deletes this user's data; refuses while forms are unsent unless they were exported. */
export async function clearLocalData(): Promise<void> {
  const b = backend.value;
  if (!b) return;
  if ((unsentCount.value > 0 || quarantinedCount.value > 0) && !outboxExported.value) {
    throw new Error('Forms on this device have not been sent. Export them first, or send them.');
  }
  unsubscribe?.();
  unsubscribe = null;
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  await b.clearLocalData();
  backend.value = null;
  outboxItems.value = [];
  lastSync.value = null;
  canSend.value = false;
  outboxExported.value = false;
  notice.value = null;
}
