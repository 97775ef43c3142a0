import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The e2e tests run against the built PWA (the service worker only exists in a build).
 * Rebuilds dist/ when any input is newer than dist/index.html.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const INPUTS = ['src/app', 'src/core', 'public', 'index.html', 'vite.config.ts'];

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

export function ensureBuild(): void {
  const built = join(ROOT, 'dist', 'index.html');
  const inputsMtime = Math.max(
    ...INPUTS.map((p) => join(ROOT, p))
      .filter(existsSync)
      .map(newest),
  );
  if (existsSync(built) && existsSync(join(ROOT, 'dist', 'sw.js')) && statSync(built).mtimeMs >= inputsMtime)
    return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}
