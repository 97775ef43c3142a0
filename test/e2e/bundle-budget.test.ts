import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild } from './ensure-build.ts';

/**
 * Issue 6 budget: initial JS <= 100 KB gzip. "Initial" is what the browser must fetch and
 * run before the first render: the entry script in index.html and every chunk it imports
 * statically (transitively). Chunks loaded with `import()` (the core, workbox-window)
 * come after the first paint and are reported, not budgeted.
 */
const DIST = join(import.meta.dirname, '..', '..', 'dist');
const BUDGET = 100 * 1024;

function gz(path: string): number {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

/** Static `import ... from "./x.js"` / `import "./x.js"` edges of a built chunk. */
function staticImports(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(
    /(?:^|[;\n}])\s*import\s*(?:[\w*{}\s,$]+from\s*)?["'`]\.\/([^"'`]+\.js)["'`]/g,
  )) {
    if (m[1]) out.push(m[1]);
  }
  return out;
}

describe('bundle budget', () => {
  beforeAll(() => {
    ensureBuild();
  });

  it('keeps the initial JS within 100 KB gzip', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const entries = [...html.matchAll(/<script[^>]+type="module"[^>]+src="\/assets\/([^"]+\.js)"/g)].map(
      (m) => m[1]!,
    );
    expect(entries).toHaveLength(1);
    const initial = new Set<string>();
    const queue = [...entries];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (initial.has(name)) continue;
      initial.add(name);
      queue.push(...staticImports(readFileSync(join(DIST, 'assets', name), 'utf8')));
    }
    const initialBytes = [...initial].reduce((sum, n) => sum + gz(join(DIST, 'assets', n)), 0);
    const all = readdirSync(join(DIST, 'assets')).filter((n) => n.endsWith('.js'));
    const totalBytes = all.reduce((sum, n) => sum + gz(join(DIST, 'assets', n)), 0);
    console.log(
      `initial JS ${(initialBytes / 1024).toFixed(1)} KB gzip (${[...initial].join(', ')}); ` +
        `all JS ${(totalBytes / 1024).toFixed(1)} KB gzip in ${all.length} chunks`,
    );
    expect(initialBytes).toBeGreaterThan(0);
    expect(initialBytes).toBeLessThanOrEqual(BUDGET);
  });
});
