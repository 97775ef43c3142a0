import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/server/emulator.ts';
import { listen } from '../../src/server/listen.ts';

export interface StartEmulatorOptions extends Partial<Omit<EmulatorOptions, 'dataDir'>> {
  /** Use this folder (kept on close); by default a fresh temp folder is made and removed. */
  dataDir?: string;
}

export interface StartedEmulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  app: Emulator;
  close(): Promise<void>;
}

/**
 * Starts the HQ emulator on 127.0.0.1 and a free port, with the demo project seeded
 * (domain `demo`, worker1/worker2 / fieldsim, admin@example.com / fieldsim, API key
 * fieldsim-demo-key). `close()` stops it and removes the temp data folder.
 */
export async function startEmulator(opts: StartEmulatorOptions = {}): Promise<StartedEmulator> {
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fieldsim-hq-'));
  const app = createEmulator({ ...opts, dataDir });
  const server = await listen(app, { port: 0, host: '127.0.0.1' });
  return {
    url: server.url,
    app,
    async close() {
      await server.close();
      app.close({ removeData: own });
    },
  };
}
