import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * The PWA build: `npm run build` writes dist/, which the emulator serves at `/` on the
 * same origin as the HQ endpoints (`/a/<domain>/...`), so the app calls relative URLs.
 *
 * Service worker: Workbox generateSW precaches the app shell (HTML, JS, CSS, icons,
 * manifest), so a reload while offline opens the app. `registerType: 'prompt'` keeps a
 * new version waiting until the user accepts the "update available" prompt. HQ endpoints
 * are never served from the cache or by the navigation fallback: data lives in
 * IndexedDB, and the network decides every request to /a/ and /api/.
 */
export default defineConfig(({ command }) => ({
  root: '.',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  plugins: [
    // Devtools only in dev builds: keeps the bundle small and sourcemaps exact.
    preact({ devToolsEnabled: command === 'serve' }),
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      strategies: 'generateSW',
      manifest: {
        id: '/',
        name: 'fieldsim',
        short_name: 'fieldsim',
        description: 'Offline-first CommCare mobile worker for field testing',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: '#0f766e',
        background_color: '#f8fafc',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/a\//, /^\/api\//, /^\/accounts\//, /^\/_fieldsim\//],
        cleanupOutdatedCaches: true,
        // Background Sync relay for the outbox (public/sw-background-sync.js).
        importScripts: ['sw-background-sync.js'],
        // The update prompt decides when the new worker takes over.
        skipWaiting: false,
        clientsClaim: false,
        sourcemap: false,
      },
      devOptions: { enabled: false },
    }),
  ],
}));
