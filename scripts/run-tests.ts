/**
 * The test command behind `npm test` (after lint, typecheck and build): makes sure a
 * Chromium exists, runs every Vitest project with the JSON reporter, and prints one plain
 * closing line `N passed, N failed` computed from that JSON, which is what CI reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ensureChromium } from './find-chromium.ts';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  success: boolean;
  testResults: { status: string; message?: string; name: string }[];
}

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const projects = only ? [only] : ['node', 'integration', 'browser'];

let chromium: string;
try {
  chromium = ensureChromium();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  console.log('0 passed, 1 failed');
  process.exit(1);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const project of projects) {
  const out = `.vitest-results-${project}.json`;
  rmSync(out, { force: true });
  const r = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
    ],
    { stdio: 'inherit', env: { ...process.env, CHROMIUM_PATH: chromium } },
  );
  if (!existsSync(out)) {
    console.error(`vitest project ${project} produced no JSON report (exit ${r.status})`);
    failed += 1;
    continue;
  }
  const json = JSON.parse(readFileSync(out, 'utf8')) as VitestJson;
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  skipped += json.numPendingTests + json.numTodoTests;
  // A file that failed to load counts as a failure even though it ran no test.
  const brokenFiles = json.testResults.filter((f) => f.status === 'failed' && (f.message ?? '') !== '');
  if (json.numFailedTests === 0 && brokenFiles.length > 0) failed += brokenFiles.length;
  if (json.numTotalTests === 0) {
    console.error(`vitest project ${project} ran no test`);
    failed += 1;
  }
  if (r.status !== 0 && json.numFailedTests === 0 && brokenFiles.length === 0) failed += 1;
}
if (skipped > 0) {
  console.error(`${skipped} tests were skipped or todo: skipped tests are not allowed`);
  failed += skipped;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
