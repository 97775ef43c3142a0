import type { Hq } from '../context.ts';
import { cached } from '../db/database.ts';

/**
 * HQ's restore payload cache (`RestorePayloadPathCache`, hq:corehq/ex-submodules/casexml/
 * apps/phone/restore.py): under load HQ keeps a full restore's payload and serves the
 * very same bytes (same restore_id) to the next full restore of that user and device
 * within a window, unless the request says `overwrite_cache=true`; a form submitted by
 * the user clears it (`SubmissionPost._invalidate_caches`). Off by default in the
 * emulator (`--restore-cache SECONDS`), since it hides changes made by others.
 */
interface Entry {
  body: string;
  at: number;
  /** The user's latest form when the payload was made: a newer one invalidates it. */
  marker: number;
}

const caches = new WeakMap<Hq, Map<string, Entry>>();

function cacheOf(hq: Hq): Map<string, Entry> {
  let m = caches.get(hq);
  if (!m) {
    m = new Map();
    caches.set(hq, m);
  }
  return m;
}

function formMarker(hq: Hq, userIds: string[]): number {
  let max = 0;
  const stmt = cached(hq.db, 'SELECT MAX(seq) AS s FROM forms WHERE auth_user_id = ? OR user_id = ?');
  for (const id of userIds) max = Math.max(max, (stmt.get(id, id) as { s: number | null }).s ?? 0);
  return max;
}

export interface CacheKey {
  key: string;
  /** The authenticated user and the restored one (login as), whose forms invalidate. */
  userIds: string[];
}

/** The cached payload for `k`, if caching is on, not overridden and still valid. */
export function cachedRestore(hq: Hq, k: CacheKey, overwrite: boolean): string | undefined {
  const seconds = hq.settings.restoreCacheSeconds;
  if (seconds === null) return undefined;
  const cache = cacheOf(hq);
  const hit = cache.get(k.key);
  if (!hit) return undefined;
  if (overwrite || Date.now() - hit.at > seconds * 1000 || formMarker(hq, k.userIds) !== hit.marker) {
    cache.delete(k.key);
    return undefined;
  }
  return hit.body;
}

export function rememberRestore(hq: Hq, k: CacheKey, body: string): void {
  if (hq.settings.restoreCacheSeconds === null) return;
  const cache = cacheOf(hq);
  if (cache.size >= 1_000) cache.clear();
  cache.set(k.key, { body, at: Date.now(), marker: formMarker(hq, k.userIds) });
}
