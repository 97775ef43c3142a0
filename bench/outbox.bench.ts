/**
 * Submissions and outbox benchmark (issue 4, DESIGN.md section 8):
 *  - compose + local apply + enqueue per form (target p50 <= 5 ms; Chromium figure to come
 *    from the browser run), here in Node on fake-indexeddb with the demo project restored;
 *  - drain throughput to the local emulator over loopback HTTP (target >= 300 forms/s),
 *    checking that the server received the forms in the order they were saved.
 *
 * Run: `npx tsx bench/outbox.bench.ts [--forms 1000] [--write]` (`--write` appends the
 * figures to bench/RESULTS.md). `bench/run.ts` calls `runOutboxBench()`.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { login, type Session } from '../src/core/index.ts';
import { startEmulator } from '../test/helpers/start-emulator.ts';

export interface OutboxBenchResult {
  forms: number;
  saveP50Ms: number;
  saveP95Ms: number;
  saveMeanMs: number;
  drainMs: number;
  drainFormsPerSec: number;
  orderKept: boolean;
  machine: string;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'} x${c.length}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}`;
}

export async function runOutboxBench(opts: { forms?: number } = {}): Promise<OutboxBenchResult> {
  const n = opts.forms ?? 1000;
  const hq = await startEmulator();
  const idb = new IDBFactory();
  let session: Session | undefined;
  try {
    session = await login({
      serverUrl: hq.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      platform: { indexedDB: { indexedDB: idb, IDBKeyRange }, pbkdf2Iterations: 10_000 },
    });
    // Measure saving alone: no credentials, so the save trigger does not start sends.
    session.logout();
    const households = (await session.listCases({ caseType: 'household', status: 'open' })).cases;
    const times: number[] = [];
    const saved: string[] = [];
    // Warm-up (JIT, Dexie schema caches) is not counted.
    for (let i = 0; i < 20; i++)
      await session.updateCase({ caseId: households[0]!.caseId, properties: { warm: String(i) } });
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      let id: string;
      if (i % 2 === 0) {
        const { item } = await session.registerCase({
          caseType: 'member',
          caseName: `Bench member ${i}`,
          properties: { age: String(i % 90), village: `Village ${i % 17}` },
          parent: { caseId: households[i % households.length]!.caseId, caseType: 'household' },
        });
        id = item.instanceId;
      } else {
        const item = await session.updateCase({
          caseId: households[i % households.length]!.caseId,
          properties: { visits: String(i), last_visit: '2026-11-27' },
        });
        id = item.instanceId;
      }
      times.push(performance.now() - t0);
      saved.push(id);
    }
    const sorted = [...times].sort((a, b) => a - b);
    // Drain: log in again (credentials back) and send everything in order.
    session.close();
    session = await login({
      serverUrl: hq.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      platform: { indexedDB: { indexedDB: idb, IDBKeyRange }, pbkdf2Iterations: 10_000 },
      restore: 'never',
    });
    const t0 = performance.now();
    let report = await session.sendOutbox();
    while (report.remaining > 0 && !report.stoppedBy) report = await session.sendOutbox();
    const drainMs = performance.now() - t0;
    const sent = (await session.listOutbox(['sent'])).length;
    const rows = hq.app.db
      .prepare("SELECT form_id FROM forms WHERE domain = 'demo' AND state = 'normal' ORDER BY seq")
      .all() as { form_id: string }[];
    const ours = new Set(saved);
    const serverOrder = rows.map((r) => r.form_id).filter((id) => ours.has(id));
    return {
      forms: n,
      saveP50Ms: pct(sorted, 0.5),
      saveP95Ms: pct(sorted, 0.95),
      saveMeanMs: times.reduce((a, b) => a + b, 0) / times.length,
      drainMs,
      drainFormsPerSec: sent / (drainMs / 1000),
      orderKept: JSON.stringify(serverOrder) === JSON.stringify(saved),
      machine: machine(),
    };
  } finally {
    session?.close();
    await hq.close();
  }
}

export function formatOutboxResult(r: OutboxBenchResult): string {
  const f = (x: number) => x.toFixed(2);
  return [
    `### Submissions and outbox (${new Date().toISOString().slice(0, 10)}, Node, fake-indexeddb)`,
    '',
    `Machine: ${r.machine}.`,
    '',
    '| what | figure | target |',
    '|---|---|---|',
    `| compose + local apply + enqueue, per form (${r.forms} forms, demo DB) | p50 ${f(r.saveP50Ms)} ms, p95 ${f(r.saveP95Ms)} ms, mean ${f(r.saveMeanMs)} ms | p50 <= 5 ms (Chromium) |`,
    `| outbox drain to the local emulator (loopback HTTP, case processing on) | ${Math.round(r.drainFormsPerSec)} forms/s (${r.forms + 20} forms in ${Math.round(r.drainMs)} ms), order kept: ${r.orderKept ? 'yes' : 'NO'} | >= 300 forms/s, order kept |`,
    '',
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const args = process.argv.slice(2);
  const formsArg = args.indexOf('--forms');
  const forms = formsArg >= 0 ? Number(args[formsArg + 1]) : 1000;
  const r = await runOutboxBench({ forms });
  const text = formatOutboxResult(r);
  console.log(text);
  if (args.includes('--write')) {
    const file = resolve(import.meta.dirname, 'RESULTS.md');
    if (!existsSync(file)) writeFileSync(file, '# Benchmark results\n\n');
    const before = readFileSync(file, 'utf8');
    appendFileSync(file, `${before.endsWith('\n') ? '' : '\n'}\n${text}`);
  }
}
