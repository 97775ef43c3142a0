import type { CaseChanges } from '../../core/sync/session-types.ts';
import type { SyncReport } from './app-backend.ts';

/**
 * The sentence shown after Sync: what this sync did, not what the device holds. An
 * incremental sync reports the cases the server's payload created, updated or closed and
 * the ones the phone's purge then removed; one that changed nothing says so. A full
 * restore (the server answered 412, or the device had no sync token) replaced the cases,
 * so it reports how many the device now has.
 */
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function changesText(c: CaseChanges): string {
  const parts: string[] = [];
  if (c.created > 0) parts.push(`${plural(c.created, 'case', 'cases')} created`);
  if (c.updated > 0) parts.push(`${c.created > 0 ? c.updated : plural(c.updated, 'case', 'cases')} updated`);
  const firstCount = parts.length === 0;
  if (c.closed > 0) parts.push(`${firstCount ? plural(c.closed, 'case', 'cases') : c.closed} closed`);
  if (c.removed > 0)
    parts.push(
      `${parts.length === 0 ? plural(c.removed, 'case', 'cases') : c.removed} removed from this device`,
    );
  return parts.length === 0 ? 'no case changed' : parts.join(', ');
}

export function syncMessage(report: SyncReport): string {
  const s = report.send;
  const sent = s.sent === 0 ? 'no form to send' : `${plural(s.sent, 'form', 'forms')} sent`;
  const r = report.restored;
  if (r === null)
    return `Synced: ${sent}; ${plural(s.remaining, 'form', 'forms')} still waiting, so cases were not synced.`;
  if (r.changes) return `Synced: ${sent}; ${changesText(r.changes)}.`;
  return `Synced: ${sent}; full restore, ${plural(r.cases, 'case', 'cases')} on this device.`;
}
