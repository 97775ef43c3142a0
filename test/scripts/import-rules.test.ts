import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const depcruise = join(repo, 'node_modules/.bin/depcruise');

/**
 * `npm run lint` runs dependency-cruiser with the project's .dependency-cruiser.mjs. These
 * tests run that same configuration on small throwaway trees, so a rule that silently
 * stopped matching (a path typo, an option renamed upstream) fails here.
 */
describe('the import rules of npm run lint', { timeout: 60_000 }, () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fieldsim-import-rules-'));
    copyFileSync(join(repo, '.dependency-cruiser.mjs'), join(root, '.dependency-cruiser.mjs'));
    writeFileSync(
      join(root, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true } }),
    );
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function cruise(files: Record<string, string>): { status: number | null; out: string } {
    rmSync(join(root, 'src'), { recursive: true, force: true });
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), text);
    }
    const r = spawnSync(depcruise, ['src', '--config', '.dependency-cruiser.mjs'], {
      cwd: root,
      encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  it('passes an acyclic tree that keeps the direction', () => {
    const r = cruise({
      'src/core/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
      'src/core/b.ts': 'export const b = 1;\n',
      'src/cli/c.ts': "import { a } from '../core/a.ts';\nexport const c = a;\n",
    });
    expect(r.out).toContain('no dependency violations');
    expect(r.status).toBe(0);
  });

  it('fails on an import cycle, type-only imports included', () => {
    const r = cruise({
      'src/cli/main.ts':
        "import { run } from './commands/run.ts';\nexport class CliExit {}\nexport const x = run;\n",
      'src/cli/commands/run.ts':
        "import type { CliExit } from '../main.ts';\nexport function run(e?: CliExit) { return e; }\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('no-circular');
  });

  it('fails when the core imports a Node built-in or the CLI', () => {
    const r = cruise({
      'src/core/a.ts':
        "import { readFileSync } from 'node:fs';\nimport { c } from '../cli/c.ts';\nexport const a = [readFileSync, c];\n",
      'src/cli/c.ts': 'export const c = 1;\n',
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('core-no-node-builtins');
    expect(r.out).toContain('core-stays-core');
  });

  it('fails when the PWA imports the emulator', () => {
    const r = cruise({
      'src/app/view.ts': "import { s } from '../server/s.ts';\nexport const v = s;\n",
      'src/server/s.ts': 'export const s = 1;\n',
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('app-not-node-side');
  });
});
