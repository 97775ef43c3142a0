import { render } from 'preact';
import './styles.css';
import { App } from './app.tsx';
import { networkSimulation, online, watchOnline } from './platform/browser-platform.ts';
import { keepFormStateOffDisk } from './platform/no-form-state.ts';
import { onBackgroundSync } from './pwa/background-sync.ts';
import { registerServiceWorker } from './pwa/update-prompt.tsx';
import { onBrowserOnline, resume, setBackendFactory } from './state/app-state.ts';
import { startRouter } from './state/router.ts';
import { applyTheme } from './state/theme.ts';

keepFormStateOffDisk();
applyTheme();
startRouter();
online.value = navigator.onLine;
watchOnline((isOnline) => {
  if (isOnline) onBrowserOnline();
});
// Turning the network simulator's "offline" off counts as coming back online.
let simulatedOffline = networkSimulation.value.offline;
networkSimulation.subscribe((sim) => {
  if (simulatedOffline && !sim.offline) onBrowserOnline();
  simulatedOffline = sim.offline;
});
// Background Sync: the service worker relays the browser's `sync` event.
onBackgroundSync(onBrowserOnline);
setBackendFactory(() => import('./state/session-backend.ts').then((m) => m.createSessionBackendFactory()));
render(<App />, document.getElementById('app')!);
registerServiceWorker();
void resume();
