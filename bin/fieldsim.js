#!/usr/bin/env node
// `npx fieldsim ...` resolves here through package.json "bin". It runs the compiled CLI
// (dist-cli/, built by `npm run build:cli`, which `npm install` runs) when that build is
// newer than every source file it was made from, so a start compiles nothing (about a third
// of the CPU of a start through tsx). In a checkout whose sources changed since the last
// build, it runs the TypeScript sources through tsx's loader instead, so an edit is never
// shadowed by a stale build. Both run in this process, so exit codes and signals are the
// CLI's own.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist-cli', '.build-stamp');

function newestSource() {
  let newest = 0;
  for (const dir of ['src/cli', 'src/core', 'src/server', 'src/node-store', 'src/node-http']) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const mtime = statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs;
      if (mtime > newest) newest = mtime;
    }
  }
  return newest;
}

function compiledIsFresh() {
  if (process.env.FIELDSIM_FROM_SOURCE === '1') return false;
  try {
    return statSync(stamp).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

let entry;
if (compiledIsFresh()) {
  entry = '../dist-cli/cli/main.js';
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = '../src/cli/main.ts';
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);
