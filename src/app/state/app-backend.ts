import type { AppDeviceData } from '../../core/apps/app-device-data.ts';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { FormDraft } from '../../core/protocol/submission/form-types.ts';
import type {
  CaseChanges,
  CasePage,
  CaseQuery,
  OutboxItem,
  RestoreProgress,
  SendReport,
  SessionInfo,
} from '../../core/sync/session-types.ts';

/**
 * What the views need from a logged-in worker, in the app's own words. `session-backend.ts`
 * implements it over the core `Session`; keeping this port narrow lets the views stay
 * ignorant of HTTP, Dexie and the outbox policy.
 */
export interface LoginInput {
  serverUrl: string;
  domain: string;
  username: string;
  password: string;
  /**
   * "Log in as" (Web Apps' login as): `username`/`password` are a web user's and this is the
   * mobile worker whose data the session opens. Empty or absent for a normal login.
   */
  loginAs?: string;
  /**
   * The password used before on this device, asked for when the login failed with
   * `password-changed` (the server has a new password and no key escrow opens the data).
   */
  previousPassword?: string;
}

export interface SyncReport {
  send: SendReport;
  /**
   * null when the sync was skipped (forms still waiting). `changes` only for an
   * incremental sync; a full restore (412, no token) replaced every case.
   */
  restored: {
    mode: 'full' | 'incremental' | 'recovered';
    cases: number;
    purged: number;
    changes?: CaseChanges;
  } | null;
}

export interface AppBackend {
  readonly info: SessionInfo;
  /** How this session started: `offline` when the server was not reachable at login. */
  readonly mode: 'online' | 'offline' | 'reopened';
  /** The login re-protected the data for a password changed on the server. */
  readonly rewrapped?: boolean;
  /** False after an offline reload until the worker types the password again. */
  canSend(): boolean;
  /**
   * True after a reload of an encrypted database until `unlock`: nothing (cases, forms,
   * outbox) can be read, so the app shows the lock screen instead of Home.
   */
  dataLocked(): boolean;
  /** Applies the form's case blocks locally and queues it, in one transaction. */
  saveForm(draft: FormDraft): Promise<OutboxItem>;
  /**
   * Saves a form the XForm engine finished (an installed app's form): sent as it is, its
   * case blocks applied locally in the same transaction; `replacesDraft` completes the
   * incomplete form with the same instanceID.
   */
  saveFilledForm(
    form: { xml: string; instanceId: string; xmlns: string; name: string },
    opts?: { replacesDraft?: boolean },
  ): Promise<OutboxItem>;
  /** What installed apps read: every case, the fixtures and the user of the last restore. */
  deviceData(): Promise<AppDeviceData>;
  /**
   * The credentials that talk to the server, for app downloads (HQ's download endpoints);
   * null until the password was typed in this page (memory only, never stored).
   */
  serverAuth(): { username: string; password: string } | null;
  /**
   * Supplies the password again after an offline start (verified locally, kept in memory
   * only): opens the encrypted data and allows sending.
   */
  unlock(password: string): Promise<void>;
  queryCases(q: CaseQuery): Promise<CasePage>;
  caseTypes(): Promise<string[]>;
  /** Owner id -> name: this worker, its case-sharing groups and locations (restore fixtures). */
  ownerNames(): Promise<Map<string, string>>;
  getCase(caseId: string): Promise<CaseRecord | undefined>;
  children(caseId: string): Promise<CaseRecord[]>;
  outbox(): Promise<OutboxItem[]>;
  outboxXml(instanceId: string): Promise<string | undefined>;
  /** Keeps an unfinished form as `incomplete` (nothing applied, nothing sent); same id updates it. */
  saveDraft(draft: FormDraft, instanceId?: string): Promise<OutboxItem>;
  getDraft(instanceId: string): Promise<FormDraft | undefined>;
  /** Finishes a draft with its final content: applied locally and queued like any form. */
  completeDraft(instanceId: string, draft: FormDraft): Promise<OutboxItem>;
  /** Puts a quarantined form back in the queue (it keeps its place by order number). */
  retry(instanceId: string): Promise<void>;
  /** Sets a waiting form aside by hand so the ones after it can go. */
  quarantine(instanceId: string): Promise<void>;
  /**
   * The unsent forms as a portable JSON file (never holds credentials), encrypted with the
   * password unless `plain` (the user's explicit choice); see docs/core.md.
   */
  exportOutbox(opts?: { plain?: boolean }): Promise<string>;
  importOutbox(json: string): Promise<{ imported: number; skipped: number; failed: number }>;
  /**
   * A support snapshot as JSON: session info, sync token, case-state hash, every case and
   * every outbox entry with its XML. Never the password or its verifier.
   */
  exportDatabase(): Promise<string>;
  /** Deletes this user's local database (cases and outbox) and ends the session. */
  clearLocalData(): Promise<void>;
  /** Asks the outbox to send now; resolves with the run's report, or null if nothing ran. */
  trigger(reason: 'save' | 'start' | 'online' | 'timer' | 'manual'): Promise<SendReport | null>;
  /** Why sending waits, if it does: paused (credentials refused) and the backoff's next try. */
  outboxStatus(): { paused: { code: string; message: string } | null; nextAttemptAt: number };
  /** Called whenever the outbox changes (saved, sending, sent, quarantined). */
  onOutboxChange(listener: () => void): () => void;
  syncAndSend(onProgress: (p: RestoreProgress) => void, signal?: AbortSignal): Promise<SyncReport>;
  lastSync(): Promise<number | null>;
  syncToken(): Promise<string | null>;
  caseStateHash(): Promise<string>;
  logout(): Promise<void>;
}

export interface BackendFactory {
  /**
   * Online login: SSO, then a full restore when the device has no data for this user.
   * Offline (or when the server cannot be reached), the password is checked against the
   * verifier stored at the last online login and the local data opens.
   */
  login(input: LoginInput, onProgress: (p: RestoreProgress) => void): Promise<AppBackend>;
  /** Opens the last user's local data without the network (offline reload). */
  resume(): Promise<AppBackend | null>;
}
