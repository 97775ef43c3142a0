/**
 * Restore and case-database benchmark (issue 3, DESIGN.md section 8).
 *
 * Node (fake-indexeddb): end-to-end ingest of synthetic restores of 10k and 100k cases
 * (~670 bytes per case, 90% with a parent index): time, cases/s, peak RSS over the
 * baseline; purge of 100k cases (the algorithm, and a whole no-change incremental sync);
 * a 50-row case-list page on 100k cases (first query, which sorts, and later pages).
 * Chromium (real IndexedDB, on-disk profile): the same ingest, and in the same run a
 * bare Dexie bulkPut of the same cases, one record each, with the ratio. Issue 15: the
 * ingest through the PWA's restore Web Worker, plain and encrypted, and in the same run
 * the parser alone and the packed records alone (`restore.chromium` in the JSON report).
 *
 * Run: `npx tsx bench/restore.bench.ts [--cases 10000,100000] [--no-browser] [--no-node] [--write]`;
 * `--write` appends the run under the "Restore and case database" section of bench/RESULTS.md.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/find-chromium.ts';
import { computePurge } from '../src/core/protocol/casexml/case-purge.ts';
import { CaseDb } from '../src/core/store/case-db.ts';
import { FieldsimDb } from '../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../src/core/store/restore-ingest.ts';
import { serveBundle } from '../test/browser/case-db-harness.ts';
import { SYNTH_GROUP, SYNTH_USER, streamOfChunks, synthRestoreChunks } from './restore-synth.ts';
import { appendToResults, writeJsonIfAsked } from './results-file.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000,100000' },
    'no-browser': { type: 'boolean', default: false },
    'no-node': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    // Read by writeJsonIfAsked; bench/run.ts passes it to every benchmark.
    json: { type: 'string' },
  },
  allowPositionals: true,
});
const sizes = (values.cases ?? '10000,100000').split(',').map(Number);

const gc = (globalThis as { gc?: () => void }).gc;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

interface NodeRow {
  cases: number;
  bytes: number;
  ms: number;
  /** CPU time of this process during the ingest: less sensitive to a busy machine. */
  cpuMs: number;
  perSec: number;
  rssMb: number;
  purgeAlgoMs?: number;
  purgeSyncMs?: number;
  pageFirstMs?: number;
  pageMs?: number;
}

async function nodeRun(n: number): Promise<NodeRow> {
  const { chunks, bytes } = synthRestoreChunks(n);
  gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const iv = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const db = new FieldsimDb(`bench-${n}`, { indexedDB: new IDBFactory(), IDBKeyRange });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await ingestRestore(db, streamOfChunks(chunks), {
    mode: 'full',
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    },
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(iv);
  if (r.cases !== n) throw new Error(`expected ${n} cases, stored ${r.cases}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const row: NodeRow = { cases: n, bytes, ms, cpuMs, perSec: (n / ms) * 1000, rssMb: (peak - base) / 1e6 };
  if (n >= 100_000) {
    const cdb = new CaseDb(db);
    // The purge itself, over what the store holds.
    const inputs = [];
    for (const c of (await cdb.query({ limit: n })).cases)
      inputs.push({ caseId: c.caseId, ownerId: c.ownerId, closed: c.closed, indices: c.indices });
    const algo: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      computePurge(inputs, new Set([SYNTH_USER, SYNTH_GROUP]));
      algo.push(performance.now() - t);
    }
    row.purgeAlgoMs = median(algo);
    // A whole incremental sync with nothing new: parse, transaction, purge, commit.
    const t1 = performance.now();
    const inc = await ingestRestore(
      db,
      streamOfChunks([
        new TextEncoder().encode(
          '<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>t2</restore_id></Sync></OpenRosaResponse>',
        ),
      ]),
      { mode: 'incremental' },
    );
    row.purgeSyncMs = performance.now() - t1;
    if (inc.purged !== 0) throw new Error('unexpected purge');
    // Case list: 50 rows of one type sorted by name. The first query builds the sorted
    // list (cached until the data changes); later pages read one page of rows.
    const t2 = performance.now();
    await cdb.query({ caseType: 'member', limit: 50 });
    row.pageFirstMs = performance.now() - t2;
    const pages: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const t = performance.now();
      const p = await cdb.query({ caseType: 'member', limit: 50, offset: i * 2000 });
      pages.push(performance.now() - t);
      if (p.cases.length !== 50) throw new Error('short page');
    }
    row.pageMs = median(pages);
  }
  db.close();
  return row;
}

interface BrowserRow {
  cases: number;
  ms: number;
  perSec: number;
  heapPeakMb: number;
  bareMs: number;
  ratio: number;
  pageMs: number;
  coldOpenMs: number;
  /** Issue 15, same page and payload: the restore worker end to end, and its two stages alone. */
  workerMs: number;
  workerPerSec: number;
  parseOnlyMs: number;
  putOnlyMs: number;
  /** workerMs / max(parseOnlyMs, putOnlyMs); target <= 1.3. */
  workerRatio: number;
  /** The restore worker alone, without the parse worker (the path before session 9), same run. */
  singleWorkerMs: number;
  /** The same with encryption at rest on (the PWA's setting). */
  encWorkerMs: number;
  encPutOnlyMs: number;
}

async function browserRun(): Promise<{ rows: BrowserRow[]; version: string }> {
  const served = await serveBundle(resolve(import.meta.dirname, 'restore-browser.entry.ts'), {
    '/restore-worker.js': resolve(import.meta.dirname, '../src/app/restore-worker/restore-worker.ts'),
    '/restore-parse-worker.js': resolve(
      import.meta.dirname,
      '../src/app/restore-worker/restore-parse-worker.ts',
    ),
  });
  const profile = mkdtempSync(join(tmpdir(), 'fieldsim-bench-profile-'));
  // A persistent (on-disk) profile: an incognito context keeps IndexedDB in memory and
  // is ~1.5x faster, which would flatter the figures (DESIGN.md section 8).
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: ensureChromium(() => {}),
    args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'],
    headless: true,
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(served.url);
    await page.waitForFunction(() => (globalThis as { fieldsimBench?: unknown }).fieldsimBench !== undefined);
    const version = ctx.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    const rows: BrowserRow[] = [];
    type Api = {
      ingest(
        n: number,
      ): Promise<{ ms: number; heapPeakMb: number; stored: number; pageMs: number; coldOpenMs: number }>;
      bareBulkPut(n: number): Promise<{ ms: number }>;
      parseOnly(n: number): Promise<{ ms: number; events: number }>;
      putOnly(n: number, encrypted: boolean): Promise<{ ms: number; records: number }>;
      workerIngest(n: number, encrypted: boolean, single?: boolean): Promise<{ ms: number; stored: number }>;
    };
    for (const n of sizes) {
      const parse = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.parseOnly(k),
        n,
      );
      const put = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.putOnly(k, false),
        n,
      );
      const worker = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.workerIngest(k, false),
        n,
      );
      if (worker.stored !== n) throw new Error(`worker stored ${worker.stored} of ${n}`);
      // Same run, the restore worker alone (parse and writes on one thread): the A/B.
      const single = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.workerIngest(k, false, true),
        n,
      );
      if (single.stored !== n) throw new Error(`single worker stored ${single.stored} of ${n}`);
      const encPut = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.putOnly(k, true),
        n,
      );
      const encWorker = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.workerIngest(k, true),
        n,
      );
      const ing = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.ingest(k),
        n,
      );
      if (ing.stored !== n) throw new Error(`browser stored ${ing.stored} of ${n}`);
      const bare = await page.evaluate(
        (k) => (globalThis as unknown as { fieldsimBench: Api }).fieldsimBench.bareBulkPut(k),
        n,
      );
      rows.push({
        cases: n,
        ms: ing.ms,
        perSec: (n / ing.ms) * 1000,
        heapPeakMb: ing.heapPeakMb,
        bareMs: bare.ms,
        ratio: ing.ms / bare.ms,
        pageMs: ing.pageMs,
        coldOpenMs: ing.coldOpenMs,
        workerMs: worker.ms,
        workerPerSec: (n / worker.ms) * 1000,
        parseOnlyMs: parse.ms,
        putOnlyMs: put.ms,
        workerRatio: worker.ms / Math.max(parse.ms, put.ms),
        singleWorkerMs: single.ms,
        encWorkerMs: encWorker.ms,
        encPutOnlyMs: encPut.ms,
      });
    }
    return { rows, version };
  } finally {
    await ctx.close();
    await served.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function machine(): string {
  const chromiumVersion = (() => {
    try {
      return execFileSync(
        ensureChromium(() => {}),
        ['--version'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      ).trim();
    } catch {
      return 'unknown';
    }
  })();
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    load = 'n/a';
  }
  return `nproc ${cpus().length}, CPU ${cpus()[0]?.model ?? '?'}, RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${chromiumVersion}, load average at start ${load}`;
}

const f0 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0));
const f1 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));

export async function runRestoreBench(): Promise<string> {
  const m = machine();
  const nodeRows: NodeRow[] = [];
  for (const n of values['no-node'] ? [] : sizes) {
    const row = await nodeRun(n);
    nodeRows.push(row);
    console.log(
      `node ${n}: ${f0(row.ms)} ms (${f0(row.cpuMs)} ms CPU), ${f0(row.perSec)} cases/s, +${f0(row.rssMb)} MB RSS`,
    );
  }
  let browser: { rows: BrowserRow[]; version: string } | undefined;
  if (!values['no-browser']) {
    browser = await browserRun();
    for (const r of browser.rows)
      console.log(
        `chromium ${r.cases}: ${f0(r.ms)} ms, ${f0(r.perSec)} cases/s, bare bulkPut ${f0(r.bareMs)} ms, ratio ${r.ratio.toFixed(2)}; ` +
          `worker ${f0(r.workerMs)} ms (${f0(r.workerPerSec)} cases/s), parse-only ${f0(r.parseOnlyMs)} ms, put-only ${f0(r.putOnlyMs)} ms, ` +
          `ratio ${r.workerRatio.toFixed(2)}; one worker (no parse worker) ${f0(r.singleWorkerMs)} ms; encrypted: worker ${f0(r.encWorkerMs)} ms, put-only ${f0(r.encPutOnlyMs)} ms`,
      );
  }
  const big = nodeRows.find((r) => r.cases >= 100_000);
  // The largest size measured (100k by default) is the one reported for machines.
  const chromiumTop = browser?.rows.at(-1);
  writeJsonIfAsked({
    report: {
      // `restore.node` is the SQLite store's figure (node-store.bench.ts): this benchmark's
      // Node rows run on fake-indexeddb and stay in its own output below.
      restore: {
        // Issue 15: the PWA's ingest, which runs in the restore worker, with its stages alone.
        chromium: chromiumTop
          ? {
              cases: chromiumTop.cases,
              ingestMs: chromiumTop.workerMs,
              parseOnlyMs: chromiumTop.parseOnlyMs,
              putOnlyMs: chromiumTop.putOnlyMs,
              casesPerSec: chromiumTop.workerPerSec,
            }
          : {},
      },
    },
    node: nodeRows,
    chromium: browser ?? null,
  });
  let md = '## Restore and case database\n\n';
  md += `Machine: ${m}.\n\n`;
  md +=
    'Synthetic restores: ~670 bytes per case, 10% households, 90% members indexing a household; end to end ';
  md += '(stream -> UTF-8 decode -> XmlScanner -> case rules -> paged store -> purge -> switch).\n\n';
  md +=
    '| runtime | cases | payload MB | ingest ms (wall) | cases/s | process CPU ms | peak memory over baseline |\n|---|---|---|---|---|---|---|\n';
  for (const r of nodeRows)
    md += `| Node (fake-indexeddb) | ${r.cases} | ${(r.bytes / 1e6).toFixed(1)} | ${f0(r.ms)} | ${f0(r.perSec)} | ${f0(r.cpuMs)} | ${f0(r.rssMb)} MB RSS |\n`;
  for (const r of browser?.rows ?? [])
    md += `| Chromium (on-disk IndexedDB) | ${r.cases} | - | ${f0(r.ms)} | ${f0(r.perSec)} | - | ${f0(r.heapPeakMb)} MB JS heap |\n`;
  if (browser) {
    md += `\nChromium ${browser.version}, same run: bare Dexie bulkPut of the same cases, one record each, no indexes:\n\n`;
    md +=
      '| cases | ingest ms | bare bulkPut ms | ingest / bulkPut | case-list page ms | reopen (catalog rebuild) ms |\n|---|---|---|---|---|---|\n';
    for (const r of browser.rows)
      md += `| ${r.cases} | ${f0(r.ms)} | ${f0(r.bareMs)} | ${r.ratio.toFixed(2)} | ${f1(r.pageMs)} | ${f0(r.coldOpenMs)} |\n`;
    md +=
      '\nThe PWA\'s restore Web Workers (issue 15), same page and payload: parse-only is the parser alone; put-only writes the same packed page and summary records with the same batches (2000 events) and transactions in flight (3); ingest is end to end through the parse worker and the restore worker, the page\'s catalog included; "restore worker alone" is the same without the parse worker (one thread parses and writes):\n\n';
    md +=
      '| cases | parse-only ms | put-only ms | worker ingest ms | cases/s | ingest / max(parse, put) | restore worker alone ms | encrypted: put-only ms | encrypted: worker ingest ms |\n|---|---|---|---|---|---|---|---|---|\n';
    for (const r of browser.rows)
      md += `| ${r.cases} | ${f0(r.parseOnlyMs)} | ${f0(r.putOnlyMs)} | ${f0(r.workerMs)} | ${f0(r.workerPerSec)} | ${r.workerRatio.toFixed(2)} | ${f0(r.singleWorkerMs)} | ${f0(r.encPutOnlyMs)} | ${f0(r.encWorkerMs)} |\n`;
  }
  if (big) {
    md += `\nNode, ${big.cases} cases: purge algorithm ${f1(big.purgeAlgoMs)} ms (median of 5); a whole no-change incremental sync `;
    md += `(parse, transaction, purge over the store, commit) ${f0(big.purgeSyncMs)} ms; 50-row case list by type sorted by name: `;
    md += `first query ${f1(big.pageFirstMs)} ms (filters the name order the restore computed, then cached), later pages ${f1(big.pageMs)} ms (median of 20).\n`;
  }
  md +=
    '\nTargets (DESIGN.md 8): Chromium >= 20k cases/s and <= 1.2x bare bulkPut; Node 100k <= 3 s; peak <= 200 MB; purge 100k <= 500 ms; page <= 20 ms.\n';
  md +=
    '\nLayout: cases are packed 16 to an IndexedDB record (one JSON string per case plus the ids), with one small ';
  md +=
    'summary record per page (type, name, owner, status, last modified, indices); a full restore writes a new ';
  md +=
    'generation and switches by updating one meta row. Queries run on an in-memory catalog built from the ';
  md +=
    'summaries (rebuilt on reopen, see "reopen"), so the write path has no secondary IndexedDB index at all. ';
  md +=
    'What limits ingest: XML parsing (the tokenizer and the trees of the restore parser) and garbage collection; ';
  md +=
    'IndexedDB writes are ~13 records per 100 cases (pages and summaries). On a busy machine (load average above) wall times ';
  md += 'swing by 2-3x between runs; the ratios within one run and the CPU times are the stable figures.\n';
  return md;
}

/** Appends this run under the "Restore and case database" section of bench/RESULTS.md (its heading line dropped). */
function writeSection(md: string): void {
  appendToResults('Restore and case database', md.replace(/^## [^\n]*\n+/, ''));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const md = await runRestoreBench();
  console.log(`\n${md}`);
  if (values.write) writeSection(md);
}
