/**
 * `npm start` entry: the local HQ emulator serving the built PWA on one origin.
 *
 * Environment: PORT (8000), HOST (127.0.0.1), FIELDSIM_DATA (.fieldsim/), FIELDSIM_FAULTS,
 *   FIELDSIM_UPLOAD_BUDGET_MB (192: request bodies held at once by the receiver, then 503).
 * Flags (after `npm start --`):
 *   --port N, --host H, --data DIR
 *   --seed-cases N [--seed-user worker1]   load N synthetic cases for a mobile worker
 *   --faults "500=0.2,drop-after-store=0.1,429=0.05,423=0.05,latency=50ms"   (423: receiver only)
 *   --rate-limits hq|off
 *   --async-restore-threshold N            restores above N cases answer 202 first
 *   --restore-cache SECONDS                serve repeated full restores from HQ's payload cache
 *   --upstream URL                         proxy /a/... to a real HQ instead of emulating
 *   --dist DIR                             built PWA folder (default dist/)
 *   --app FILE.ccz | --app DIR             import a CommCare app into the demo project (repeatable)
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { XFormError } from '../core/errors/xform-error.ts';
import { importApp } from './apps/import-app.ts';
import { createEmulator } from './emulator.ts';
import { FaultSyntaxError, formatFaults, NO_FAULTS, parseFaults } from './faults.ts';
import { listen } from './listen.ts';
import { uploadBudgetSetting } from './receiver/upload-budget.ts';
import { DEMO_API_KEY, DEMO_DOMAIN, DEMO_PASSWORD, DEMO_WEB_USER, DEMO_WORKERS } from './seed/demo.ts';
import { SeedError, seedCases } from './seed/seed-cases.ts';

function fail(message: string): never {
  console.error(`fieldsim-hq: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    'seed-cases': { type: 'string' },
    'seed-user': { type: 'string' },
    faults: { type: 'string' },
    'rate-limits': { type: 'string' },
    'async-restore-threshold': { type: 'string' },
    'restore-cache': { type: 'string' },
    upstream: { type: 'string' },
    dist: { type: 'string' },
    app: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
  allowPositionals: false,
});

if (values.help) {
  console.log(
    'Usage: npm start -- [--port N] [--host H] [--data DIR] [--seed-cases N [--seed-user NAME]]\n' +
      '       [--faults SPEC] [--rate-limits hq|off] [--async-restore-threshold N] [--restore-cache SECONDS] [--upstream URL] [--dist DIR]\n' +
      '       [--app FILE.ccz|DIR]...\n' +
      '  --app: import a CommCare app (a .ccz or an unzipped app folder) into the demo project;\n' +
      '         repeatable; served at /a/demo/apps/download/<uniqueid>/profile.ccpr and listed by\n' +
      '         /a/demo/api/v0.5/application/. A changed app keeps its id and gets a higher version.\n' +
      '  SPEC: any of 500=share,429=share,drop-after-store=share,latency=Nms (receiver and restore),\n' +
      '        423=share (receiver only), e.g. "500=0.2,drop-after-store=0.1,423=0.05"\n' +
      'Env: PORT, HOST, FIELDSIM_DATA, FIELDSIM_FAULTS, FIELDSIM_UPLOAD_BUDGET_MB,\n' +
      '     FIELDSIM_KEY_RECORDS=off (no phone/keys/: clients get no key escrow)',
  );
  process.exit(0);
}

const port = Number(values.port ?? process.env.PORT ?? 8000);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`invalid port ${values.port ?? process.env.PORT}`);
const host = values.host ?? process.env.HOST ?? '127.0.0.1';
const dataDir = resolve(values.data ?? process.env.FIELDSIM_DATA ?? '.fieldsim');
let faults = NO_FAULTS;
const faultSpec = values.faults ?? process.env.FIELDSIM_FAULTS;
if (faultSpec) {
  try {
    faults = parseFaults(faultSpec);
  } catch (e) {
    fail(e instanceof FaultSyntaxError ? e.message : String(e));
  }
}
const rateLimits = values['rate-limits'] ?? 'off';
if (rateLimits !== 'off' && rateLimits !== 'hq') fail(`--rate-limits must be hq or off, got ${rateLimits}`);
let asyncThreshold: number | null = null;
if (values['async-restore-threshold'] !== undefined) {
  asyncThreshold = Number(values['async-restore-threshold']);
  if (!Number.isInteger(asyncThreshold) || asyncThreshold < 0)
    fail('--async-restore-threshold must be an integer');
}
let restoreCacheSeconds: number | null = null;
if (values['restore-cache'] !== undefined) {
  restoreCacheSeconds = Number(values['restore-cache']);
  if (!Number.isInteger(restoreCacheSeconds) || restoreCacheSeconds <= 0)
    fail('--restore-cache must be a positive number of seconds');
}
const distDir = resolve(values.dist ?? 'dist');
const staticDir = existsSync(resolve(distDir, 'index.html')) ? distDir : null;
const upstream = values.upstream ?? null;
if (upstream !== null) {
  try {
    new URL(upstream);
  } catch {
    fail(`--upstream must be a URL, got ${upstream}`);
  }
}

const emulator = createEmulator({
  dataDir,
  faults,
  rateLimits,
  staticDir,
  upstream,
  keyRecords: process.env.FIELDSIM_KEY_RECORDS !== 'off',
  settings: {
    asyncRestoreThreshold: asyncThreshold,
    restoreCacheSeconds,
    ...uploadBudgetSetting(process.env.FIELDSIM_UPLOAD_BUDGET_MB),
  },
});

if (values['seed-cases'] !== undefined) {
  try {
    const r = seedCases({
      db: emulator.db,
      cases: Number(values['seed-cases']),
      user: values['seed-user'] ?? 'worker1',
    });
    console.log(
      `Seeded ${r.households + r.members} cases (${r.households} households, ${r.members} members) for ${r.username} in ${r.seconds.toFixed(2)} s (${r.casesPerSecond} cases/s)`,
    );
  } catch (e) {
    fail(e instanceof SeedError ? e.message : String(e));
  }
}

for (const source of values.app ?? []) {
  if (upstream) fail('--app cannot be used with --upstream (proxy mode serves no apps)');
  try {
    const r = importApp(emulator.db, DEMO_DOMAIN, resolve(source));
    const what =
      r.status === 'created'
        ? 'imported'
        : r.status === 'replaced'
          ? `replaced version ${r.previousVersion}`
          : 'unchanged since the last import';
    console.log(
      `App "${r.app.name}" (id ${r.app.id}, version ${r.app.version}) from ${source}: ${what}; profile at /a/${DEMO_DOMAIN}/apps/download/${r.app.id}/profile.ccpr`,
    );
  } catch (e) {
    emulator.close();
    fail(
      e instanceof XFormError
        ? `cannot import app ${e.message}`
        : `cannot import app ${source}: ${String(e)}`,
    );
  }
}

const server = await listen(emulator, { port, host });
console.log(`fieldsim HQ emulator on ${server.url}/  (data: ${dataDir})`);
if (upstream) console.log(`Proxy mode: /a/... is forwarded to ${upstream}`);
else {
  console.log(
    `Demo project "${DEMO_DOMAIN}": mobile workers ${DEMO_WORKERS.join(', ')} / ${DEMO_PASSWORD}; web user ${DEMO_WEB_USER} / ${DEMO_PASSWORD}, API key ${DEMO_API_KEY}`,
  );
}
if (!staticDir)
  console.log(`No built PWA in ${distDir} (run npm run build); only the HQ endpoints are served.`);
if (faultSpec) console.log(`Faults: ${formatFaults(faults)}`);
if (rateLimits === 'hq') console.log('Rate limits: HQ preset');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close().finally(() => {
    emulator.close();
    process.exit(0);
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
