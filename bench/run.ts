/**
 * `npm run bench`: runs every bench/*.bench.ts in turn, each in its own Node process (so
 * one benchmark's heap and timers do not skew the next), with `--expose-gc` so memory
 * baselines are taken after a collection. Extra arguments are passed to every benchmark
 * (e.g. `npm run bench -- --write` to update bench/RESULTS.md). Exits non-zero if any fails.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(import.meta.dirname);
const only = process.env.BENCH_ONLY;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only === undefined || f.includes(only))
  .sort();
const failed: string[] = [];
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(dir, f), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) failed.push(f);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
