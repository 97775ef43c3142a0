import type { RestoreProgress } from '../../core/sync/session-types.ts';

const PHASES: Record<RestoreProgress['phase'], string> = {
  waiting: 'Waiting for the server',
  downloading: 'Downloading',
  writing: 'Writing cases',
  purging: 'Tidying up',
  done: 'Done',
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Restore/sync progress: items when the server sent `items`, else indeterminate. */
export function RestoreProgressBar({ progress, label }: { progress: RestoreProgress; label: string }) {
  const server = progress.serverProgress;
  const max = server ? server.total || undefined : progress.itemsTotal;
  const value = server ? server.done : progress.itemsDone;
  return (
    <div class="stack">
      <progress aria-label={label} max={max ?? undefined} value={max ? value : undefined} />
      <p class="muted" aria-live="polite">
        {PHASES[progress.phase]}
        {server
          ? server.total > 0
            ? ` (server preparing ${server.done} of ${server.total})`
            : ' (server preparing)'
          : ''}{' '}
        · {formatBytes(progress.bytes)} · {progress.itemsDone}
        {progress.itemsTotal ? ` of ${progress.itemsTotal}` : ''} items · {progress.casesWritten} cases
        written
      </p>
    </div>
  );
}

/**
 * Sync before the restore's first progress: the outbox is sending (forms go first), or the
 * request for the restore is out and the server has not answered yet. An indeterminate
 * bar, so the worker sees at once that something is happening.
 */
export function SyncStarting({ sending }: { sending: boolean }) {
  return (
    <div class="stack">
      <progress aria-label="Sync progress" />
      <p class="muted" aria-live="polite">
        {sending ? 'Sending forms…' : 'Waiting for the server…'}
      </p>
    </div>
  );
}
