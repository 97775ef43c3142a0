import { effect } from '@preact/signals';
import { lastSync } from '../state/app-state.ts';

/**
 * Like the phone, look for new or newer app builds after each sync (and once after login,
 * when the stored sync time is first read). The check loads the app installer on demand.
 */
let lastSeen: number | null = null;
effect(() => {
  const at = lastSync.value;
  if (at === null || at === lastSeen) return;
  lastSeen = at;
  void import('./installed-apps.ts').then((m) => m.checkForApps({ quiet: true }));
});
