import type { FullIngest } from '../../core/sync/restore-flow.ts';
import { workerFullIngest } from './worker-ingest.ts';

/**
 * The PWA's full-restore ingest: a module worker Vite bundles from restore-worker.ts.
 * Undefined where Workers are missing; the session then restores on the page.
 */
export function pwaFullIngest(): FullIngest | undefined {
  return workerFullIngest(
    () =>
      new Worker(new URL('./restore-worker.ts', import.meta.url), {
        type: 'module',
        name: 'fieldsim-restore',
      }),
  );
}
