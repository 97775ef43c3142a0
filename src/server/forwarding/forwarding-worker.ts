import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/database.ts';
import { ForwardingEngine, type ForwardingOptions } from './forwarding-engine.ts';

/**
 * The forwarding engine's thread (see forwarding-thread.ts): its own SQLite connection on
 * the emulator's file and its own event loop, so forwarding round trips never queue behind
 * the receiver's work.
 */
export type ToWorker = { kind: 'wake'; forwarderId?: string } | { kind: 'stop' };
export type FromWorker = { kind: 'started' } | { kind: 'stopped' };

interface Data {
  dataDir: string;
  options: Partial<Omit<ForwardingOptions, 'fetch'>>;
}

const port = parentPort;
if (port) {
  const { dataDir, options } = workerData as Data;
  const db = openDatabase(dataDir);
  const engine = new ForwardingEngine(db, options);
  engine.start();
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'wake') engine.wake(m.forwarderId);
    else
      void engine.stop().then(() => {
        db.close();
        port.postMessage({ kind: 'stopped' } satisfies FromWorker);
        port.close();
      });
  });
  port.postMessage({ kind: 'started' } satisfies FromWorker);
}
