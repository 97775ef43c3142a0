/**
 * `npm run bench`: runs every bench/*.bench.ts in turn, each in its own Node process (so
 * one benchmark's heap and timers do not skew the next), with `--expose-gc` so memory
 * baselines are taken after a collection. Extra arguments are passed to every benchmark
 * (e.g. `npm run bench -- --write` to update bench/RESULTS.md). Exits non-zero if any fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { emptyReport, formatReport, mergeReport } from './report.ts';

const dir = resolve(import.meta.dirname);
// `BENCH_ONLY=server,outbox`: the benchmarks whose file name contains one of these.
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only === undefined || only.some((o) => f.includes(o)))
  .sort();
// `--json FILE`: each benchmark writes its own JSON part (figures under `report`, see
// bench/report.ts); run.ts merges them into ONE object in FILE: the issue-15 shape, the
// machine, the load average at start and end, and every benchmark's full output.
const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const passOn = jsonAt >= 0 ? [...args.slice(0, jsonAt), ...args.slice(jsonAt + 2)] : args;
// Parts are always collected: the summary printed at the end is made from them.
const parts = mkdtempSync(join(tmpdir(), 'fieldsim-bench-'));
const report = emptyReport();
const failed: string[] = [];
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const part = join(parts, `${f}.json`);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(dir, f), ...passOn, '--json', part],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) failed.push(f);
  if (existsSync(part)) {
    const figures = JSON.parse(readFileSync(part, 'utf8')) as Record<string, unknown>;
    report.benches[f.replace(/\.bench\.ts$/, '')] = figures;
    mergeReport(report, figures.report);
  }
}
report.failed = failed;
report.loadAverage.end = loadavg().map((x) => Math.round(x * 100) / 100);
rmSync(parts, { recursive: true, force: true });
if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `\n=== summary${jsonFile === undefined ? '' : ` (also in ${jsonFile})`} ===\n${formatReport(report)}`,
);
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
