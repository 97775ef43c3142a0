import { cached, type Db } from '../db/database.ts';
import { enqueueRecord, markFailure, markSuccesses, type PayloadKind } from './repeat-records.ts';

/**
 * Every database write the forwarding engine makes, as plain data. The engine thread
 * only reads its own connection and sends these to the emulator's main thread, which
 * applies them: one writer connection, as the rest of the emulator assumes (a second
 * writer made the receiver's deferred transactions fail with SQLITE_BUSY).
 */
export type ForwardingWrite =
  | {
      op: 'enqueue';
      forwarderId: string;
      domain: string;
      items: { kind: PayloadKind; payloadId: string; formSeq: number }[];
      formCursor?: number;
      appVersions?: Record<string, number>;
    }
  | { op: 'success'; done: { id: number; status: number; body: string }[] }
  | {
      op: 'failure';
      id: number;
      status: number | null;
      body: string;
      reason: string;
      cancel: boolean;
      nextCheck: string | null;
    };

export type ForwardingWriter = (w: ForwardingWrite) => Promise<void>;

/** Applies one write in one transaction. Records of a forwarder deleted meanwhile are dropped. */
export function applyForwardingWrite(db: Db, w: ForwardingWrite): void {
  if (!db.open) return;
  switch (w.op) {
    case 'success':
      markSuccesses(db, w.done);
      return;
    case 'failure':
      markFailure(db, w.id, w);
      return;
    case 'enqueue':
      db.transaction(() => {
        if (!cached(db, 'SELECT 1 FROM forwarders WHERE id = ?').get(w.forwarderId)) return;
        for (const i of w.items)
          enqueueRecord(db, {
            forwarderId: w.forwarderId,
            domain: w.domain,
            payloadKind: i.kind,
            payloadId: i.payloadId,
            formSeq: i.formSeq,
          });
        if (w.formCursor !== undefined)
          cached(db, 'UPDATE forwarders SET form_cursor = ? WHERE id = ?').run(w.formCursor, w.forwarderId);
        if (w.appVersions !== undefined)
          cached(db, 'UPDATE forwarders SET app_versions = ? WHERE id = ?').run(
            JSON.stringify(w.appVersions),
            w.forwarderId,
          );
      })();
  }
}

/** Writes straight to `db` (the engine on the emulator's own loop). */
export function directWriter(db: Db): ForwardingWriter {
  return (w) => {
    applyForwardingWrite(db, w);
    return Promise.resolve();
  };
}
