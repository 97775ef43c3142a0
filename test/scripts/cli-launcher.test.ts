import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

/**
 * bin/fieldsim.js runs dist-cli/ only while its build stamp is newer than every source;
 * otherwise the sources through tsx. A stand-in compiled entry tells the two apart.
 */
describe('the fieldsim launcher', { timeout: 60_000 }, () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fieldsim-launcher-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(join(repo, 'bin/fieldsim.js'), join(root, 'bin/fieldsim.js'));
    symlinkSync(join(repo, 'src'), join(root, 'src'));
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
    mkdirSync(join(root, 'dist-cli/cli'), { recursive: true });
    writeFileSync(
      join(root, 'dist-cli/cli/main.js'),
      "export async function main(argv) { console.log('compiled ' + argv.slice(2).join(' ')); return 3; }\n",
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const run = (env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(root, 'bin/fieldsim.js'), '--help'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  it('runs the compiled build when its stamp is newer than every source', () => {
    writeFileSync(join(root, 'dist-cli/.build-stamp'), 'now');
    const r = run();
    expect(r.stdout.trim()).toBe('compiled --help');
    expect(r.status).toBe(3);
  });

  it('runs the sources when one is newer than the build, or when asked to', () => {
    const old = new Date('2001-01-01T00:00:00Z');
    utimesSync(join(root, 'dist-cli/.build-stamp'), old, old);
    const stale = run();
    expect(stale.status).toBe(0);
    expect(stale.stdout).toContain('Usage: fieldsim');

    writeFileSync(join(root, 'dist-cli/.build-stamp'), 'now');
    const forced = run({ FIELDSIM_FROM_SOURCE: '1' });
    expect(forced.stdout).toContain('Usage: fieldsim');
  });

  it('runs the sources when there is no build', () => {
    rmSync(join(root, 'dist-cli/.build-stamp'));
    const r = run();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: fieldsim');
  });
});
