import { rmSync } from 'node:fs';
import { Hono } from 'hono';
import { PasswordCache } from './auth/passwords.ts';
import type { EmulatorSettings, Env, Hq } from './context.ts';
import { type Db, openDatabase } from './db/database.ts';
import { registerExports } from './export/register.ts';
import { decideFault, type FaultConfig, NO_FAULTS } from './faults.ts';
import { registerForwarding } from './forwarding/forwarding-routes.ts';
import { createForwarding, type Forwarding, type ForwardingSetup } from './forwarding/forwarding-thread.ts';
import { registerHttpLimits } from './hardening/http-limits.ts';
import { registerKeys } from './mobile-auth/keys-routes.ts';
import { RateLimiter, type RateLimitMode } from './rate-limits.ts';
import { FormProcessor } from './receiver/submit.ts';
import { AsyncRestores } from './restore/async-restore.ts';
import { registerAdmin } from './routes/admin.ts';
import { registerApi } from './routes/api.ts';
import { registerAppDownload } from './routes/app-download.ts';
import { registerProxy } from './routes/proxy.ts';
import { registerReceiver } from './routes/receiver.ts';
import { registerRestore } from './routes/restore.ts';
import { registerSso } from './routes/sso.ts';
import { registerStatic } from './routes/static.ts';
import { seedDemo, upgradeDemoApp } from './seed/demo.ts';

export interface EmulatorOptions {
  /** Folder holding the SQLite file (FIELDSIM_DATA, default `.fieldsim/`). */
  dataDir: string;
  /** Seed the demo project into an empty database (default true). */
  seed?: boolean;
  faults?: FaultConfig;
  /** Random source for fault decisions (tests pass a seeded one). */
  random?: () => number;
  rateLimits?: RateLimitMode;
  /** Built PWA folder served at `/`; omitted or null serves no static files. */
  staticDir?: string | null;
  /** Proxy mode: forward `/a/...` to this HQ instead of emulating it. */
  upstream?: string | null;
  settings?: Partial<EmulatorSettings>;
  /** Data forwarding: timings (tests shorten the back-off) and `thread: false` to run it in process. */
  forwarding?: ForwardingSetup;
  /** HQ's mobile key records at `phone/keys/` (default true; false: 404, docs/emulator.md). */
  keyRecords?: boolean;
}

export interface Emulator {
  readonly app: Hono<Env>;
  readonly db: Db;
  readonly hq: Hq;
  readonly dataDir: string;
  /** Data forwarding (repeaters): started with the emulator, stopped by close(). */
  readonly forwarding: Forwarding;
  fetch(request: Request): Response | Promise<Response>;
  setFaults(f: FaultConfig): void;
  /** Closes the database; `removeData` also deletes the data folder. */
  close(options?: { removeData?: boolean }): void;
}

export const DEFAULT_SETTINGS: EmulatorSettings = {
  asyncRestoreThreshold: null,
  asyncRetryAfter: 5,
  asyncPolls: 2,
  maxXmlBytes: 10 * 1024 * 1024,
  maxAttachmentBytes: 15 * 1024 * 1024,
  digestNonceSeconds: 300,
  restoreCacheSeconds: null,
};

export function createEmulator(options: EmulatorOptions): Emulator {
  const db = openDatabase(options.dataDir);
  if (options.seed !== false) {
    seedDemo(db);
    upgradeDemoApp(db);
  }
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const hq: Hq = {
    db,
    passwords: new PasswordCache(),
    processor: new FormProcessor(db),
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    faults: options.faults ?? { ...NO_FAULTS },
    random: options.random ?? Math.random,
    rateLimiter: new RateLimiter(options.rateLimits ?? 'off'),
    asyncRestores: new AsyncRestores(),
    async injectFault() {
      if (hq.faults.latencyMs > 0) await sleep(hq.faults.latencyMs);
      return decideFault(hq.faults, hq.random);
    },
  };
  const forwarding = createForwarding(db, options.dataDir, options.forwarding);
  const app = new Hono<Env>();
  app.onError((err, c) => {
    console.error(`[fieldsim-hq] ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.text('Internal server error', 500);
  });
  registerHttpLimits(app);
  registerAdmin(app, hq);
  if (options.upstream) {
    registerProxy(app, options.upstream);
  } else {
    registerSso(app, hq);
    registerRestore(app, hq);
    registerReceiver(app, hq);
    registerApi(app, hq);
    registerExports(app, hq);
    registerAppDownload(app, hq);
    registerKeys(app, hq, options.keyRecords !== false);
    registerForwarding(app, hq, forwarding);
    forwarding.start();
  }
  if (options.staticDir) registerStatic(app, options.staticDir);
  return {
    app,
    db,
    hq,
    dataDir: options.dataDir,
    forwarding,
    fetch: (request) => app.fetch(request),
    setFaults(f) {
      hq.faults = f;
    },
    close(opts) {
      void forwarding.stop();
      if (db.open) db.close();
      if (opts?.removeData) rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
}
