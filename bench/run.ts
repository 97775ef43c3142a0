/**
 * `npm run bench`: runs every bench/*.bench.ts in turn, each in its own Node process (so
 * one benchmark's heap and timers do not skew the next), with `--expose-gc` so memory
 * baselines are taken after a collection. Extra arguments are passed to every benchmark
 * (e.g. `npm run bench -- --write` to update bench/RESULTS.md). Exits non-zero if any fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const dir = resolve(import.meta.dirname);
const only = process.env.BENCH_ONLY;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only === undefined || f.includes(only))
  .sort();
// `--json FILE`: each benchmark that supports it writes its own JSON; they are merged into FILE.
const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const passOn = jsonAt >= 0 ? [...args.slice(0, jsonAt), ...args.slice(jsonAt + 2)] : args;
const parts = jsonFile === undefined ? undefined : mkdtempSync(join(tmpdir(), 'fieldsim-bench-'));
const merged: Record<string, unknown> = {};
const failed: string[] = [];
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const part = parts === undefined ? undefined : join(parts, `${f}.json`);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(dir, f), ...passOn, ...(part ? ['--json', part] : [])],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) failed.push(f);
  if (part !== undefined && existsSync(part))
    merged[f.replace(/\.bench\.ts$/, '')] = JSON.parse(readFileSync(part, 'utf8'));
}
if (jsonFile !== undefined && parts !== undefined) {
  writeFileSync(jsonFile, `${JSON.stringify(merged, null, 2)}\n`);
  rmSync(parts, { recursive: true, force: true });
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
