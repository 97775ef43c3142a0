import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DB_FILE } from '../db/database.ts';
import { ForwardingEngine, type ForwardingOptions } from './forwarding-engine.ts';
import type { ForwardingWrite } from './forwarding-writes.ts';

/**
 * The forwarding engine's thread (see forwarding-thread.ts): its own event loop, so
 * forwarding round trips never queue behind the receiver's work, and its own read-only
 * SQLite connection on the emulator's file; its writes go to the main thread.
 */
export type ToWorker =
  | { kind: 'wake'; forwarderId?: string }
  | { kind: 'stop' }
  | { kind: 'written'; id: number };
export type FromWorker = { kind: 'stopped' } | { kind: 'write'; id: number; write: ForwardingWrite };

interface Data {
  dataDir: string;
  options: Partial<ForwardingOptions>;
}

const port = parentPort;
if (port) {
  const { dataDir, options } = workerData as Data;
  const db = new Database(join(dataDir, DB_FILE), { readonly: true, fileMustExist: true });
  const waiting = new Map<number, () => void>();
  let next = 0;
  const engine = new ForwardingEngine(db, options, (write) => {
    const id = ++next;
    return new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      port.postMessage({ kind: 'write', id, write } satisfies FromWorker);
    });
  });
  engine.start();
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'written') {
      waiting.get(m.id)?.();
      waiting.delete(m.id);
    } else if (m.kind === 'wake') engine.wake(m.forwarderId);
    else
      void engine.stop().then(() => {
        db.close();
        port.postMessage({ kind: 'stopped' } satisfies FromWorker);
        port.close();
      });
  });
}
