import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors/http-error.ts';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { appFilesFromMap, appFilesFromZip } from '../../../src/core/suite/app-files.ts';
import { appFilesFromServer } from '../../../src/core/suite/app-files-from-server.ts';
import { loadApp } from '../../../src/core/suite/load-app.ts';
import { appFilesFromFolder, FIXTURE_APPS } from './sample-apps.ts';

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

describe('appFilesFromMap', () => {
  it('normalises paths and encodes strings as UTF-8', async () => {
    const files = appFilesFromMap({ './a/b.txt': 'héllo', '/c.xml': new Uint8Array([60, 97, 47, 62]) });
    expect(text(await files.read('a/b.txt'))).toBe('héllo');
    expect(text(await files.read('./a/../a/b.txt'))).toBe('héllo');
    expect(text(await files.read('c.xml'))).toBe('<a/>');
    expect(await files.read('missing.xml')).toBeUndefined();
    expect(files.list?.().sort()).toEqual(['a/b.txt', 'c.xml']);
  });
});

describe('appFilesFromZip', () => {
  it('reads a zip of the fixture app and installs it', async () => {
    const folder = appFilesFromFolder(join(FIXTURE_APPS, 'household'));
    const entries: Record<string, Uint8Array> = {};
    for (const p of folder.list?.() ?? []) entries[p] = (await folder.read(p)) ?? new Uint8Array();
    const app = await loadApp(appFilesFromZip(zipSync(entries)));
    expect(app.name).toBe('Household visits');
    expect(app.forms.size).toBe(2);
  });

  it('refuses bytes that are not a zip, as app-invalid', () => {
    try {
      appFilesFromZip(new TextEncoder().encode('<profile/> is not a zip'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(XFormError);
      expect((e as XFormError).code).toBe('app-invalid');
      expect((e as XFormError).file).toBe('.ccz');
      expect((e as XFormError).message).toContain('not a readable zip');
    }
  });

  it('refuses a truncated zip', () => {
    const whole = zipSync({ 'profile.ccpr': new TextEncoder().encode('<profile version="1"/>') });
    expect(() => appFilesFromZip(whole.slice(0, whole.length - 10))).toThrow(XFormError);
  });
});

/**
 * A stand-in for HQ's download views on 127.0.0.1: `?latest=true` on the app id
 * redirects to the newest build's folder (as `safe_download` does); files are served
 * only under the build folder, and only with the right Basic credentials.
 */
describe('appFilesFromServer', () => {
  let server: Server;
  let base = '';
  const requests: string[] = [];
  const dir = join(FIXTURE_APPS, 'household');
  const auth = `Basic ${Buffer.from('worker1@demo.commcarehq.org:pw').toString('base64')}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${url.pathname}${url.search}`);
      if (req.headers.authorization !== auth) {
        res.writeHead(401).end();
        return;
      }
      const m = /^\/a\/demo\/apps\/download\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      const [, id, path] = m;
      if (id === 'app1' && url.searchParams.get('latest') === 'true') {
        res.writeHead(302, { location: `/a/demo/apps/download/build7/${path}` }).end();
        return;
      }
      if (id === 'broken') {
        res.writeHead(500).end('boom');
        return;
      }
      if (id !== 'build7') {
        res.writeHead(404).end();
        return;
      }
      try {
        res.writeHead(200).end(readFileSync(join(dir, path ?? '')));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('installs from the download URLs, pinned to the build the profile came from', async () => {
    requests.length = 0;
    const files = appFilesFromServer({
      baseUrl: base,
      domain: 'demo',
      appId: 'app1',
      auth: { username: 'worker1@demo.commcarehq.org', password: 'pw' },
    });
    const app = await loadApp(files);
    expect(app.name).toBe('Household visits');
    expect(app.forms.size).toBe(2);
    expect(requests[0]).toBe('/a/demo/apps/download/app1/profile.ccpr?latest=true');
    expect(requests).toContain('/a/demo/apps/download/build7/suite.xml');
    expect(requests).toContain('/a/demo/apps/download/build7/modules-1/forms-0.xml');
    expect(requests).toContain('/a/demo/apps/download/build7/default/app_strings.txt');
    // only the profile went to the app id; everything after it to the build it redirected to
    expect(requests.filter((r) => r.includes('/app1/'))).toEqual([
      '/a/demo/apps/download/app1/profile.ccpr?latest=true',
    ]);
  });

  it('reads a build id directly, without latest=true after the profile', async () => {
    requests.length = 0;
    const app = await loadApp(
      appFilesFromServer({
        baseUrl: base,
        domain: 'demo',
        appId: 'build7',
        auth: { username: 'worker1@demo.commcarehq.org', password: 'pw' },
      }),
    );
    expect(app.version).toBe(7);
    expect(requests[0]).toBe('/a/demo/apps/download/build7/profile.ccpr?latest=true');
    expect(requests.slice(1).every((r) => !r.includes('latest'))).toBe(true);
  });

  it('answers 404 as "not here", so the loader names the missing file', async () => {
    const files = appFilesFromServer({
      baseUrl: base,
      domain: 'demo',
      appId: 'nobuild',
      auth: { username: 'worker1@demo.commcarehq.org', password: 'pw' },
    });
    expect(await files.read('profile.ccpr')).toBeUndefined();
    await expect(loadApp(files)).rejects.toMatchObject({ code: 'app-invalid', file: 'profile.ccpr' });
  });

  it('turns 401 and 500 into HttpErrors', async () => {
    const noAuth = appFilesFromServer({ baseUrl: base, domain: 'demo', appId: 'app1' });
    await expect(noAuth.read('profile.ccpr')).rejects.toBeInstanceOf(HttpError);
    await expect(noAuth.read('profile.ccpr')).rejects.toMatchObject({ code: 'auth-invalid' });
    const broken = appFilesFromServer({
      baseUrl: base,
      domain: 'demo',
      appId: 'broken',
      auth: { username: 'worker1@demo.commcarehq.org', password: 'pw' },
    });
    await expect(broken.read('suite.xml')).rejects.toMatchObject({ code: 'server-error' });
  });

  it('never fetches a remote location on another host', async () => {
    const calls: string[] = [];
    const files = appFilesFromServer({
      baseUrl: base,
      domain: 'demo',
      appId: 'app1',
      fetch: (input) => {
        calls.push(String(input));
        return Promise.resolve(new Response('x'));
      },
    });
    expect(await files.read('https://www.commcarehq.org/a/demo/apps/download/b/suite.xml')).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
