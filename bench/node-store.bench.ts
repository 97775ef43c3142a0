/**
 * Node store benchmark (issue 15): the phone's database under Node on SQLite
 * (src/node-store) against fake-indexeddb, in the same run.
 *
 * 1. Node restore: end-to-end ingest of a synthetic restore (default 100k cases) into an
 *    SQLite file (parsed in a worker thread, as the CLI does; and again with the parse
 *    thread off, `sqlite-file-one-thread`), into in-memory SQLite (the QA runner's store)
 *    and into fake-indexeddb;
 *    each in its own child process, so peak RSS over the baseline (taken after the
 *    payload is built and a GC) belongs to that store alone.
 * 2. CLI: `fieldsim login --restore never`, `restore` of a user with 50k cases from the
 *    emulator (in its own process), then `cases --json`, each a separate CLI process with
 *    its peak RSS (maxRSS via /usr/bin/time -f %M; the CLI runs from source through tsx
 *    unless dist-cli/ is fresh, which adds the loader's memory).
 *
 * Run: `npx tsx --expose-gc bench/node-store.bench.ts [--cases 100000] [--cli-cases 50000]
 * [--no-cli] [--no-node] [--write] [--json FILE]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { IndexedDbDeps } from '../src/core/platform.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { SqliteStore } from '../src/node-store/sqlite-store.ts';
import { createEmulator } from '../src/server/emulator.ts';
import { seedLoadUsers } from '../src/server/seed/load-users.ts';
import { spawnEmulatorProcess } from './emulator-process.ts';
import { streamOfChunks, synthRestoreChunks } from './restore-synth.ts';
import { appendToResults, runHeading, writeJsonIfAsked } from './results-file.ts';

/** `sqlite-file-one-thread`: the same file store with its parse thread off (`restoreParser` dropped), for the ratio. */
type Kind = 'sqlite-file' | 'sqlite-file-one-thread' | 'sqlite-memory' | 'fake-indexeddb';

interface RestoreRow {
  kind: Kind;
  cases: number;
  ingestMs: number;
  cpuMs: number;
  casesPerSec: number;
  peakRssMb: number;
}

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    'cli-cases': { type: 'string', default: '50000' },
    'no-cli': { type: 'boolean', default: false },
    'no-node': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    json: { type: 'string' },
    child: { type: 'string' },
  },
  allowPositionals: true,
});

async function childRun(kind: Kind, n: number): Promise<RestoreRow> {
  const { chunks } = synthRestoreChunks(n);
  (globalThis as { gc?: () => void }).gc?.();
  // memoryUsage.rss(), not memoryUsage(): the full call gathers V8 heap statistics too,
  // ~0.5 s of the main thread over a 100k-case restore sampled every 5 ms.
  const base = process.memoryUsage.rss();
  let peak = base;
  const iv = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const dir = mkdtempSync(join(tmpdir(), 'fieldsim-bench-store-'));
  let store: SqliteStore | null = null;
  let deps: IndexedDbDeps;
  if (kind === 'fake-indexeddb') deps = { indexedDB: new IDBFactory(), IDBKeyRange };
  else {
    store = SqliteStore.open(kind === 'sqlite-memory' ? ':memory:' : join(dir, 'db.sqlite'));
    const { restoreParser, ...oneThread } = store.deps();
    deps =
      kind === 'sqlite-file' && restoreParser !== undefined ? { ...oneThread, restoreParser } : oneThread;
  }
  const db = new FieldsimDb('bench', deps);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await ingestRestore(db, streamOfChunks(chunks), {
    mode: 'full',
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage.rss());
    },
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(iv);
  peak = Math.max(peak, process.memoryUsage.rss());
  if (r.cases !== n) throw new Error(`expected ${n} cases, stored ${r.cases}`);
  db.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    kind,
    cases: n,
    ingestMs: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    casesPerSec: Math.round((n / ms) * 1000),
    peakRssMb: Math.round((peak - base) / 1e6),
  };
}

function restoreInChild(kind: Kind, n: number): RestoreRow {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', kind, '--cases', String(n)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (r.status !== 0) throw new Error(`${kind} child failed (${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as RestoreRow;
}

interface CliRow {
  step: string;
  ms: number;
  peakRssMb: number;
}

async function cliRun(n: number): Promise<{ rows: CliRow[]; dbMb: number }> {
  const repo = resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(join(tmpdir(), 'fieldsim-bench-cli-'));
  const emu = createEmulator({ dataDir: join(dir, 'emu') });
  seedLoadUsers(emu.db, { prefix: 'storebench', count: 1, password: 'fieldsim', casesPerUser: n });
  emu.close();
  const server = await spawnEmulatorProcess(join(dir, 'emu'));
  const rows: CliRow[] = [];
  const env = {
    ...process.env,
    FIELDSIM_STATE: join(dir, 'state'),
    FIELDSIM_PASSWORD: 'fieldsim',
    FIELDSIM_SERVER: server.url,
  };
  try {
    const steps: [string, string[]][] = [
      ['login', ['login', '--domain', 'demo', '--user', 'storebench1', '--restore', 'never', '-q']],
      ['restore', ['restore', '--json']],
      ['cases --json', ['cases', '--json']],
    ];
    for (const [step, args] of steps) {
      const t0 = performance.now();
      const r = spawnSync(
        '/usr/bin/time',
        ['-f', 'MAXRSS %M', process.execPath, join(repo, 'bin/fieldsim.js'), ...args],
        {
          env,
          encoding: 'utf8',
          maxBuffer: 1 << 30,
        },
      );
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`fieldsim ${args.join(' ')} failed: ${r.stderr}`);
      const kb = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0);
      rows.push({ step, ms: Math.round(ms), peakRssMb: Math.round(kb / 1024) });
    }
    const du = execFileSync('du', ['-sm', join(dir, 'state')], { encoding: 'utf8' });
    return { rows, dbMb: Number(du.split(/\s/)[0]) };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child !== undefined) {
  const row = await childRun(values.child as Kind, Number(values.cases));
  process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  const n = Number(values.cases);
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}`;
  const load = loadavg().map((x) => x.toFixed(2));
  const restore: RestoreRow[] = [];
  const kinds: Kind[] = values['no-node']
    ? []
    : ['sqlite-file', 'sqlite-file-one-thread', 'sqlite-memory', 'fake-indexeddb'];
  for (const kind of kinds) {
    const row = restoreInChild(kind, n);
    restore.push(row);
    console.log(
      `restore ${kind}: ${row.cases} cases in ${row.ingestMs} ms (${row.casesPerSec}/s, cpu ${row.cpuMs} ms), peak RSS +${row.peakRssMb} MB`,
    );
  }
  const cli = values['no-cli'] ? null : await cliRun(Number(values['cli-cases']));
  if (cli) for (const r of cli.rows) console.log(`cli ${r.step}: ${r.ms} ms, peak RSS ${r.peakRssMb} MB`);
  if (cli) console.log(`cli state folder: ${cli.dbMb} MB`);
  console.log(`load average: ${load.join(' ')}`);
  const file = restore.find((r) => r.kind === 'sqlite-file');
  writeJsonIfAsked({
    // The slot of the machine summary (bench/report.ts): Node restore into SQLite.
    ...(file
      ? {
          report: {
            restore: {
              node: {
                cases: file.cases,
                ingestMs: file.ingestMs,
                peakRssMb: file.peakRssMb,
                casesPerSec: file.casesPerSec,
              },
            },
          },
        }
      : {}),
    machine,
    loadavg: load,
    restore: {
      ...(file
        ? {
            node: {
              cases: file.cases,
              ingestMs: file.ingestMs,
              peakRssMb: file.peakRssMb,
              casesPerSec: file.casesPerSec,
            },
          }
        : {}),
      nodeByStore: restore,
    },
    ...(cli ? { cli: { cases: Number(values['cli-cases']), steps: cli.rows, stateMb: cli.dbMb } } : {}),
  });
  if (values.write) {
    const lines = [
      runHeading(machine),
      '',
      `load average ${load.join(' ')}`,
      '',
      '| store | cases | ingest ms | cpu ms | cases/s | peak RSS over baseline MB |',
      '|---|---|---|---|---|---|',
      ...restore.map(
        (r) => `| ${r.kind} | ${r.cases} | ${r.ingestMs} | ${r.cpuMs} | ${r.casesPerSec} | ${r.peakRssMb} |`,
      ),
      ...(cli
        ? [
            '',
            `CLI, ${values['cli-cases']} cases (state folder ${cli.dbMb} MB):`,
            '',
            '| step | ms | peak RSS MB |',
            '|---|---|---|',
            ...cli.rows.map((r) => `| ${r.step} | ${r.ms} | ${r.peakRssMb} |`),
          ]
        : []),
    ];
    appendToResults('Node store (SQLite)', lines.join('\n'));
  }
}
