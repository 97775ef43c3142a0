import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * fake-indexeddb is a test double and a development dependency (issue 15): nothing the
 * CLI, runner, emulator or app runs may need it. Only the runner's opt-in store loads it,
 * by dynamic import, from src/cli/runner/fake-idb-loader.ts.
 */

const repo = resolve(import.meta.dirname, '../..');
const LOADER = 'src/cli/runner/fake-idb-loader.ts';

const STATIC = [
  // import x from '…', import { x } from '…', export { x } from '…', import type … from '…'
  /\bfrom\s*['"]fake-indexeddb(?:\/[^'"]*)?['"]/,
  // import '…' (side effects, e.g. fake-indexeddb/auto)
  /\bimport\s*['"]fake-indexeddb(?:\/[^'"]*)?['"]/,
  /\brequire\s*\(\s*['"]fake-indexeddb(?:\/[^'"]*)?['"]\s*\)/,
];
const DYNAMIC = /\bimport\s*\(\s*['"]fake-indexeddb(?:\/[^'"]*)?['"]\s*\)/;

/** The ways `text` brings in fake-indexeddb: 'static', 'dynamic', or none. */
function fakeIdbImports(text: string): ('static' | 'dynamic')[] {
  const out: ('static' | 'dynamic')[] = [];
  if (STATIC.some((re) => re.test(text))) out.push('static');
  if (DYNAMIC.test(text)) out.push('dynamic');
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(m|c)?[jt]sx?$/.test(e.name))
    .map((e) => relative(repo, join(e.parentPath, e.name)));
}

describe('fake-indexeddb is a development dependency only', () => {
  it('the scanner sees every way of importing it', () => {
    expect(fakeIdbImports("import { IDBFactory } from 'fake-indexeddb';")).toEqual(['static']);
    expect(fakeIdbImports('import type { X } from "fake-indexeddb/lib/FDBFactory";')).toEqual(['static']);
    expect(fakeIdbImports("import 'fake-indexeddb/auto';")).toEqual(['static']);
    expect(fakeIdbImports("export { IDBKeyRange } from 'fake-indexeddb';")).toEqual(['static']);
    expect(fakeIdbImports("const m = require('fake-indexeddb');")).toEqual(['static']);
    expect(fakeIdbImports("await import('fake-indexeddb')")).toEqual(['dynamic']);
    expect(fakeIdbImports("// fake-indexeddb is loaded by 'fake-idb-loader.ts'")).toEqual([]);
  });

  it('no file under src/ imports it statically; only the runner loader imports it at all', () => {
    const found: Record<string, string[]> = {};
    for (const f of sources(join(repo, 'src'))) {
      const kinds = fakeIdbImports(readFileSync(join(repo, f), 'utf8'));
      if (kinds.length > 0) found[f] = kinds;
    }
    expect(found).toEqual({ [LOADER]: ['dynamic'] });
  });

  it('package.json and package-lock.json list it as a dev dependency', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies['fake-indexeddb']).toBeUndefined();
    expect(pkg.devDependencies['fake-indexeddb']).toMatch(/^\^6\./);
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        { dev?: boolean; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }
      >;
    };
    const root = lock.packages[''];
    expect(root?.dependencies?.['fake-indexeddb']).toBeUndefined();
    expect(root?.devDependencies?.['fake-indexeddb']).toBe(pkg.devDependencies['fake-indexeddb']);
    // `npm ci --omit=dev` leaves out exactly the entries marked dev.
    expect(lock.packages['node_modules/fake-indexeddb']?.dev).toBe(true);
  });
});
