import { effect } from '@preact/signals';
import { networkSimulation } from '../platform/browser-platform.ts';
import { backend, lastSync } from '../state/app-state.ts';

/**
 * Like the phone, look for new or newer app builds after each sync (and once after login,
 * when the stored sync time is first read). The installer is loaded only when the check can
 * run (online, password known) and after the start has settled, so an offline start or
 * the first screen never waits for it.
 */
const SETTLE_MS = 1500;
let lastSeen: number | null = null;
effect(() => {
  const at = lastSync.value;
  if (at === null || at === lastSeen) return;
  lastSeen = at;
  setTimeout(() => {
    const b = backend.value;
    if (!b?.serverAuth() || !navigator.onLine || networkSimulation.value.offline) return;
    void import('./installed-apps.ts').then((m) => m.checkForApps({ quiet: true }));
  }, SETTLE_MS);
});
