import { cached, type Db } from '../db/database.ts';
import { inPhoneAdds, phoneAdds } from './sync-log-adds.ts';
import { storedLists } from './sync-log-lists.ts';

/** A livequery sync log (`SimplifiedSyncLog`, hq:.../casexml/apps/phone/models.py). */
export interface SyncLog {
  id: string;
  domain: string;
  userId: string;
  /** ISO time the restore was generated. */
  date: string;
  previousLogId: string | null;
  deviceId: string;
  appId: string;
  ownerIds: string[];
  caseIdsOnPhone: string[];
  dependentCaseIds: string[];
}

interface SyncLogRow {
  id: string;
  domain: string;
  user_id: string;
  date: string;
  previous_log_id: string | null;
  device_id: string;
  app_id: string;
  owner_ids: string;
  token: string | null;
}

/** What the receiver needs of a log for most forms: no case lists (see `phoneHas`). */
export interface SyncLogHead {
  id: string;
  domain: string;
  ownerIds: string[];
  /** Version of the stored lists (sync-log-lists.ts), null when never rewritten. */
  listToken: string | null;
}

function readHead(db: Db, id: string): (SyncLogHead & { row: SyncLogRow }) | undefined {
  const r = cached(
    db,
    `SELECT id, domain, user_id, date, previous_log_id, device_id, app_id, owner_ids,
       (SELECT hex(token) FROM sync_log_list_tokens t WHERE t.log_id = sync_logs.id) AS token
     FROM sync_logs WHERE id = ?`,
  ).get(id) as SyncLogRow | undefined;
  if (!r) return undefined;
  return {
    id: r.id,
    domain: r.domain,
    ownerIds: JSON.parse(r.owner_ids) as string[],
    listToken: r.token,
    row: r,
  };
}

/** The log without its case lists: a form only adds to them, case by case. */
export function getSyncLogHead(db: Db, id: string): SyncLogHead | undefined {
  const h = readHead(db, id);
  return h && { id: h.id, domain: h.domain, ownerIds: h.ownerIds, listToken: h.listToken };
}

/**
 * Whether a case is on the phone of `log`: the stored list's set (parsed once per
 * version, sync-log-lists.ts), else an index lookup among the cases forms appended
 * since. Neither reads a list whole per form, so a form's cost does not grow with the
 * phone's case count nor with the forms drained before it.
 */
export function phoneHas(db: Db, log: SyncLogHead): (caseId: string) => boolean {
  const stored = storedLists(db, log.id, log.listToken).set();
  return (caseId) => stored.has(caseId) || inPhoneAdds(db, log.id, caseId);
}

/**
 * A sync log with its phone lists: the lists parsed once per version (sync-log-lists.ts),
 * the phone list followed by the cases forms appended to it (sync-log-adds.ts). The
 * columns before the lists are read on their own, so a cached log's (large) lists are
 * not read from disk.
 */
export function getSyncLog(db: Db, id: string): SyncLog | undefined {
  const h = readHead(db, id);
  if (!h) return undefined;
  const r = h.row;
  const lists = storedLists(db, r.id, r.token);
  const adds = phoneAdds(db, r.id);
  return {
    id: r.id,
    domain: r.domain,
    userId: r.user_id,
    date: r.date,
    previousLogId: r.previous_log_id,
    deviceId: r.device_id,
    appId: r.app_id,
    ownerIds: h.ownerIds,
    caseIdsOnPhone: adds.length === 0 ? lists.onPhone.slice() : lists.onPhone.concat(adds),
    dependentCaseIds: lists.dependent.slice(),
  };
}

/** `phoneHas` for a log read whole (getSyncLog). */
export function phoneMembership(db: Db, log: SyncLog): (caseId: string) => boolean {
  const token = cached(db, 'SELECT hex(token) FROM sync_log_list_tokens WHERE log_id = ?')
    .pluck()
    .get(log.id) as string | undefined;
  return phoneHas(db, { id: log.id, domain: log.domain, ownerIds: log.ownerIds, listToken: token ?? null });
}

export function saveSyncLog(db: Db, log: SyncLog): void {
  cached(
    db,
    `INSERT INTO sync_logs (id, domain, user_id, date, previous_log_id, device_id, app_id, owner_ids,
     case_ids_on_phone, dependent_case_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET case_ids_on_phone = excluded.case_ids_on_phone,
     dependent_case_ids = excluded.dependent_case_ids`,
  ).run(
    log.id,
    log.domain,
    log.userId,
    log.date,
    log.previousLogId,
    log.deviceId,
    log.appId,
    JSON.stringify(log.ownerIds),
    JSON.stringify(log.caseIdsOnPhone),
    JSON.stringify(log.dependentCaseIds),
  );
}

/**
 * HQ deletes older sync logs of the same user and device when a new one is created
 * (`delete_synclogs`, hq:.../casexml/apps/phone/models.py), which is why an old token can
 * start answering 412. The emulator is gentler — it keeps the newest `keep` logs per
 * (user, device) — so that tests running several simulated phones without a device id,
 * or a phone whose restore response was lost, keep working, while storage stays bounded.
 */
export function pruneSyncLogs(db: Db, log: SyncLog, keep = 5): void {
  cached(
    db,
    `DELETE FROM sync_logs WHERE user_id = ? AND device_id = ? AND id NOT IN
     (SELECT id FROM sync_logs WHERE user_id = ? AND device_id = ? ORDER BY date DESC, rowid DESC LIMIT ?)`,
  ).run(log.userId, log.deviceId, log.userId, log.deviceId, keep);
}
