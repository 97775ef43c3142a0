/**
 * Enforces the dependency direction (DESIGN.md section 1): src/core imports no `node:`
 * module, nothing from app/cli/server, and no test file. Biome cannot express
 * "relative path escaping this folder", so this small check does it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const core = join(root, 'src/core');
const problems: string[] = [];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.tsx?$/.test(name) ? [p] : [];
  });
}

const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
for (const file of walk(core)) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? '';
    const where = relative(root, file);
    if (spec.startsWith('node:')) problems.push(`${where}: imports ${spec} (core must run in browsers)`);
    if (spec.startsWith('.')) {
      const target = resolve(file, '..', spec);
      if (!target.startsWith(core)) problems.push(`${where}: imports ${spec}, outside src/core`);
    }
    if (/\.test(\.ts)?$/.test(spec)) problems.push(`${where}: imports a test file ${spec}`);
    if (
      ['fs', 'path', 'os', 'child_process', 'http', 'crypto', 'stream', 'better-sqlite3', 'hono'].includes(
        spec,
      )
    )
      problems.push(`${where}: imports ${spec} (Node or server only)`);
  }
}
if (problems.length > 0) {
  console.error(`Boundary check failed:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('boundary check: src/core is clean');
