import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { samplesDir } from './helpers.ts';

/** `npm start -- --app FILE.ccz --app DIR`: imports at start, or fails start with exit code 2. */

const repo = resolve(import.meta.dirname, '../..');
const BASIC_CCZ = join(samplesDir(), 'commcare-core/basic_app/basic.ccz');
const TEXT_APP = join(samplesDir(), 'commcare-core/app_for_text_tests');
let dir = '';
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldsim-main-app-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[], data: string): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(
    process.execPath,
    [join(repo, 'node_modules/tsx/dist/cli.mjs'), join(repo, 'src/server/main.ts'), ...args],
    {
      cwd: repo,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FIELDSIM_DATA: data },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  child.stdout!.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    output += b.toString();
  });
  return { child, output: () => output };
}

function waitForUrl(run: { child: ChildProcess; output: () => string }): Promise<string> {
  return new Promise((ok, fail) => {
    const timer = setInterval(() => {
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(run.output());
      if (m) {
        clearInterval(timer);
        ok(m[1]!);
      }
    }, 50);
    run.child.once('exit', (code) => {
      clearInterval(timer);
      fail(new Error(`emulator exited with ${code}: ${run.output()}`));
    });
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((ok) => {
    if (child.exitCode !== null) ok(child.exitCode);
    else child.once('exit', (code) => ok(code));
  });
}

describe('npm start -- --app', () => {
  it('imports a .ccz and an app folder at start and serves them', async () => {
    const run = start(['--app', BASIC_CCZ, '--app', TEXT_APP], join(dir, 'ok'));
    const url = await waitForUrl(run);
    expect(run.output()).toContain('App "Basic Tests" (id 7ba9b150718448c442aa0ab3efd53995, version 1399)');
    expect(run.output()).toContain('App "trivial_test_resources" (id id, version 1)');
    const auth = { authorization: `Basic ${Buffer.from('worker1:fieldsim').toString('base64')}` };
    const profile = await fetch(`${url}/a/demo/apps/download/7ba9b150718448c442aa0ab3efd53995/profile.ccpr`, {
      headers: auth,
    });
    expect(profile.status).toBe(200);
    expect(await profile.text()).toContain(
      `${url}/a/demo/apps/download/7ba9b150718448c442aa0ab3efd53995/suite.xml`,
    );
    const suite = await fetch(`${url}/a/demo/apps/download/id/suite.xml`, { headers: auth });
    expect(await suite.text()).toContain('Root Menu');
  }, 60_000);

  it('fails start with exit code 2 and a message naming the file and the reason', async () => {
    const broken = join(dir, 'broken.ccz');
    writeFileSync(broken, 'not a zip at all');
    const run = start(['--app', broken], join(dir, 'broken'));
    expect(await exitCode(run.child)).toBe(2);
    expect(run.output()).toMatch(/fieldsim-hq: cannot import app .*broken\.ccz: not a readable zip archive/);
    const missing = start(['--app', join(dir, 'nope.ccz')], join(dir, 'missing'));
    expect(await exitCode(missing.child)).toBe(2);
    expect(missing.output()).toMatch(/nope\.ccz: no such file or folder/);
    const help = start(['--help'], join(dir, 'help'));
    expect(await exitCode(help.child)).toBe(0);
    expect(help.output()).toContain('[--app FILE.ccz|DIR]');
  }, 60_000);
});
