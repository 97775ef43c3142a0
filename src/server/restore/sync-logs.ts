import { cached, type Db } from '../db/database.ts';
import { phoneAdds } from './sync-log-adds.ts';

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
  case_ids_on_phone: string;
  dependent_case_ids: string;
}

export function getSyncLog(db: Db, id: string): SyncLog | undefined {
  const r = cached(db, 'SELECT * FROM sync_logs WHERE id = ?').get(id) as SyncLogRow | undefined;
  if (!r) return undefined;
  const onPhone = JSON.parse(r.case_ids_on_phone) as string[];
  // Forms append to the list apart from it (sync-log-adds.ts).
  for (const id of phoneAdds(db, r.id)) onPhone.push(id);
  return {
    id: r.id,
    domain: r.domain,
    userId: r.user_id,
    date: r.date,
    previousLogId: r.previous_log_id,
    deviceId: r.device_id,
    appId: r.app_id,
    ownerIds: JSON.parse(r.owner_ids) as string[],
    caseIdsOnPhone: onPhone,
    dependentCaseIds: JSON.parse(r.dependent_case_ids) as string[],
  };
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
