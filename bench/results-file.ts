import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Adds one run's figures at the end of the `## <heading>` section of bench/RESULTS.md
 * (created at the end of the file when missing). Runs are appended, never replaced: the
 * file is the record of what each machine measured, and sections are shared by several
 * benchmarks' histories.
 */
export function appendToResults(heading: string, entry: string): void {
  const file = resolve(import.meta.dirname, 'RESULTS.md');
  const content = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const body = `${entry.trimEnd()}\n`;
  const at = content.indexOf(`\n## ${heading}\n`);
  if (at < 0) {
    writeFileSync(file, `${content.trimEnd()}\n\n## ${heading}\n\n${body}`);
    return;
  }
  const next = content.indexOf('\n## ', at + 1);
  const end = next < 0 ? content.length : next;
  writeFileSync(file, `${content.slice(0, end).trimEnd()}\n\n${body}${content.slice(end)}`);
}

/** `### 2026-11-28 01:40 UTC — <machine>`: the heading of one recorded run. */
export function runHeading(machine: string): string {
  return `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${machine}`;
}

/**
 * `--json FILE`: a benchmark writes its figures as JSON for machines (CI dashboards,
 * comparisons), besides the text it prints. `bench/run.ts` gives each benchmark its own
 * file and merges them.
 */
export function writeJsonIfAsked(
  figures: Record<string, unknown>,
  argv: readonly string[] = process.argv,
): void {
  const i = argv.indexOf('--json');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (file === undefined) return;
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...figures }, null, 2)}\n`);
}
