import type { FullIngest } from '../../core/sync/restore-flow.ts';
import { workerFullIngest } from './worker-ingest.ts';

/**
 * The PWA's full-restore ingest: two module workers Vite bundles, restore-parse-worker.ts
 * (parse and case rules) and restore-worker.ts (packing and writes). Undefined where
 * Workers are missing; the session then restores on the page.
 */
export function pwaFullIngest(): FullIngest | undefined {
  return workerFullIngest(
    () =>
      new Worker(new URL('./restore-worker.ts', import.meta.url), {
        type: 'module',
        name: 'fieldsim-restore',
      }),
    () =>
      new Worker(new URL('./restore-parse-worker.ts', import.meta.url), {
        type: 'module',
        name: 'fieldsim-restore-parse',
      }),
  );
}
