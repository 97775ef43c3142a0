import { registerSW } from 'virtual:pwa-register';
import { signal } from '@preact/signals';

/**
 * Service worker registration with the "update available" prompt (registerType 'prompt'):
 * a new version waits until the user chooses to reload into it, so a form being filled
 * is never interrupted.
 */
export const updateAvailable = signal(false);
export const offlineReady = signal(false);
let update: ((reload?: boolean) => Promise<void>) | null = null;

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  update = registerSW({
    immediate: true,
    onNeedRefresh() {
      updateAvailable.value = true;
    },
    onOfflineReady() {
      offlineReady.value = true;
    },
  });
}

export function UpdatePrompt() {
  if (!updateAvailable.value) return null;
  return (
    <div class="banners">
      <div class="banner info" role="alert">
        <span class="grow">A new version of fieldsim is available.</span>
        <button type="button" onClick={() => void update?.(true)}>
          Reload to update
        </button>
        <button type="button" class="secondary" onClick={() => (updateAvailable.value = false)}>
          Later
        </button>
      </div>
    </div>
  );
}
