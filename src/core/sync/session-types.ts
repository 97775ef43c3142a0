import type { CaseRecord } from '../protocol/casexml/case-types.ts';
import type { QuarantineReason } from '../protocol/submission/submission-types.ts';

/**
 * The surface the PWA and the CLI use: one logged-in worker on one device.
 * Implemented by `Session` in session.ts (sync/), built from http/, store/ and outbox/.
 */

export interface SessionInfo {
  serverUrl: string;
  domain: string;
  /** Full username, `worker1@demo.commcarehq.org`. */
  username: string;
  userId: string;
  deviceId: string;
  /**
   * Only in a "login as" session (Web Apps' login as; PROTOCOL.md 3.2): the web user whose
   * credentials talk to the server (SSO, restore, receiver). `username` and `userId` above
   * are then the mobile worker's, because the data restored with `as=` and the meta of
   * every form belong to the worker (formplayer fills form meta from the restored user).
   */
  authenticatedAs?: { username: string; userId: string };
}

export interface RestoreProgress {
  phase: 'waiting' | 'downloading' | 'writing' | 'purging' | 'done';
  bytes: number;
  /** From the root `items` attribute, when the server sent it. */
  itemsTotal?: number;
  itemsDone: number;
  casesWritten: number;
  /** The server's async-restore `<progress done total>` while it answers 202. */
  serverProgress?: { done: number; total: number };
}

/**
 * What an incremental sync did to the cases on the device, counted per case: `created`
 * (new here and open), `closed` (open or new here, closed by the payload), `updated` (any
 * other case the payload carried) and `removed` (dropped by the phone's purge afterwards).
 */
export interface CaseChanges {
  created: number;
  updated: number;
  closed: number;
  removed: number;
}

export interface RestoreSummary {
  syncToken: string | null;
  /** Cases on the device afterwards. */
  cases: number;
  purged: number;
  durationMs: number;
  /** Incremental syncs only; a full restore (first login, 412 recovery) replaces everything. */
  changes?: CaseChanges;
}

export interface CaseQuery {
  caseType?: string;
  ownerId?: string;
  status?: 'open' | 'closed' | 'all';
  namePrefix?: string;
  /**
   * Case-insensitive substring of the name or of any property value (what a worker types
   * in a search box: part of a name, a village, a phone number).
   */
  text?: string;
  /** Property name and value to match exactly. */
  property?: { name: string; value: string };
  sort?: 'name' | 'lastModified';
  offset?: number;
  limit?: number;
}

export interface CasePage {
  total: number;
  cases: CaseRecord[];
}

export type OutboxState = 'incomplete' | 'queued' | 'sending' | 'sent' | 'quarantined';
export type { QuarantineReason };

/** What the UI shows of one form in the outbox (the XML itself is fetched on demand). */
export interface OutboxItem {
  seq: number;
  instanceId: string;
  xmlns: string;
  formName: string;
  state: OutboxState;
  createdAt: number;
  sentAt?: number;
  size: number;
  attempts: number;
  lastError?: string;
  quarantineReason?: QuarantineReason;
  serverMessage?: string;
  caseIds: string[];
}

export interface SendReport {
  sent: number;
  quarantined: number;
  remaining: number;
  /** Why the run stopped early (network, 5xx, 429, auth...), if it did. */
  stoppedBy?: { code: string; message: string };
}
