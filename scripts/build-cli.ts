// Compiles the CLI (and the core and emulator modules it imports) to dist-cli/ with tsc,
// then writes dist-cli/.build-stamp, which bin/fieldsim.js compares with the sources'
// modification times to decide whether the build may be used.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist-cli');
const started = new Date();
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.cli.json'], {
  cwd: root,
  stdio: 'inherit',
});
mkdirSync(out, { recursive: true });
// The stamp carries the time the build started: a source saved during the build is newer.
writeFileSync(join(out, '.build-stamp'), started.toISOString());
const stampTime = started.getTime() / 1000;
utimesSync(join(out, '.build-stamp'), stampTime, stampTime);
