import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
let child: ChildProcess;
let url = '';
let output = '';
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fieldsim-main-'));
  const dist = join(dir, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>fieldsim</title>');
  writeFileSync(join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  writeFileSync(join(dist, 'manifest.webmanifest'), '{}');
  writeFileSync(join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
  child = spawn(
    process.execPath,
    [
      join(repo, 'node_modules/tsx/dist/cli.mjs'),
      join(repo, 'src/server/main.ts'),
      '--dist',
      dist,
      '--seed-cases',
      '100',
    ],
    {
      cwd: repo,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FIELDSIM_DATA: join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`emulator did not start: ${output}`)), 30_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (m && output.includes('Demo project')) {
        url = m[1]!;
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.once('exit', (code) => fail(new Error(`emulator exited with ${code}: ${output}`)));
  });
}, 40_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('src/server/main.ts', () => {
  it('logs the URL and the demo credentials, and seeds synthetic cases', () => {
    expect(output).toContain('worker1, worker2 / fieldsim');
    expect(output).toContain('admin@example.com');
    expect(output).toMatch(/Seeded 100 cases/);
  });

  it('serves the HQ endpoints', async () => {
    const res = await fetch(`${url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
    });
    expect(res.status).toBe(200);
    const restore = await fetch(`${url}/a/demo/phone/restore/`, {
      headers: { authorization: `Basic ${Buffer.from('worker1:fieldsim').toString('base64')}` },
    });
    const body = await restore.text();
    expect(body.match(/<case /g)).toHaveLength(125);
  });

  it('serves the PWA with content types, service worker scope and caching headers', async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    // issue 6: the emulator sends a Content-Security-Policy for the app
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await index.text()).toContain('<title>fieldsim</title>');
    const sw = await fetch(`${url}/sw.js`);
    expect(sw.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${url}/assets/app-1234.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const manifest = await fetch(`${url}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
  });

  it('falls back to index.html for app routes but not for missing files', async () => {
    const route = await fetch(`${url}/cases/123`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>fieldsim</title>');
    expect((await fetch(`${url}/missing.js`)).status).toBe(404);
    expect((await fetch(`${url}/../../etc/passwd`)).status).not.toBe(500);
  });
});
