/**
 * Background Sync where the browser has it (Chromium): while forms wait, the page keeps
 * the `fieldsim-outbox` sync tag registered; the service worker (public/sw-background-sync.js)
 * answers the browser's `sync` event by messaging open windows, which then run the outbox.
 * Elsewhere the `online` event and the timer do the same job.
 */
export const OUTBOX_SYNC_TAG = 'fieldsim-outbox';
const MESSAGE = 'fieldsim-outbox-sync';

interface SyncManagerLike {
  register(tag: string): Promise<void>;
}

export function requestBackgroundSync(): void {
  if (!('serviceWorker' in navigator)) return;
  void navigator.serviceWorker.ready
    .then((reg) =>
      (reg as ServiceWorkerRegistration & { sync?: SyncManagerLike }).sync?.register(OUTBOX_SYNC_TAG),
    )
    .catch(() => undefined);
}

export function onBackgroundSync(run: () => void): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<unknown>) => {
    const data = event.data as { type?: unknown } | null;
    if (data?.type === MESSAGE) run();
  });
}
