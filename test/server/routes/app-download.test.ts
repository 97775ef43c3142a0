import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, childElements, parseXmlTree, textContent } from '../../../src/core/protocol/xml-tree.ts';
import { readCcz } from '../../../src/server/apps/app-package.ts';
import { importApp } from '../../../src/server/apps/import-app.ts';
import { DEMO_APP_ID } from '../../../src/server/seed/demo-app.ts';
import { type StartedEmulator, startEmulator } from '../../helpers/start-emulator.ts';
import { basic, samplesDir } from '../helpers.ts';

const BASIC_CCZ = resolve(samplesDir(), 'commcare-core/basic_app/basic.ccz');
const BASIC_ID = '7ba9b150718448c442aa0ab3efd53995';
const KEY = 'ApiKey admin@example.com:fieldsim-demo-key';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
  importApp(emu.app.db, 'demo', BASIC_CCZ);
  // A second project with a user of its own, to prove apps do not leak across domains.
  emu.app.db
    .prepare(
      "INSERT INTO users (id, domain, username, kind, password_hash, date_joined) SELECT 'other1', 'other', 'w@other.commcarehq.org', 'mobile', password_hash, '2026-01-01' FROM users WHERE username = 'worker1@demo.commcarehq.org'",
    )
    .run();
});
afterAll(async () => {
  await emu.close();
});

const get = (path: string, auth: string | null = basic('worker1')) =>
  fetch(path.startsWith('http') ? path : `${emu.url}${path}`, {
    headers: auth ? { authorization: auth } : {},
  });

describe('GET /a/<domain>/apps/download/<app_id>/profile.ccpr', () => {
  it('serves the demo profile pointing back at this server, and every file it leads to', async () => {
    const res = await get(`/a/demo/apps/download/${DEMO_APP_ID}/profile.ccpr?latest=true&username=worker1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('commcare/profile');
    expect(res.headers.get('x-commcarehq-appreleasedon')).toBe('2026-01-01T00:00:00+00:00');
    const profile = parseXmlTree(await res.text());
    const base = `${emu.url}/a/demo/apps/download/${DEMO_APP_ID}/`;
    expect(attr(profile, 'update')).toBe(`${base}profile.ccpr?latest=true`);
    const props = new Map(childElements(profile, 'property').map((p) => [attr(p, 'key'), attr(p, 'value')]));
    expect(props.get('ota-restore-url')).toBe(`${emu.url}/a/demo/phone/restore/${DEMO_APP_ID}/`);
    expect(props.get('PostURL')).toBe(`${emu.url}/a/demo/receiver/${DEMO_APP_ID}/`);
    const remote = childElements(profile, 'suite').flatMap((s) =>
      childElements(childElements(s, 'resource')[0]!, 'location')
        .filter((l) => attr(l, 'authority') === 'remote')
        .map((l) => textContent(l)),
    );
    expect(remote).toEqual([`${base}suite.xml`, `${base}media_suite.xml`]);
    const local = childElements(profile, 'suite').flatMap((s) =>
      childElements(childElements(s, 'resource')[0]!, 'location')
        .filter((l) => attr(l, 'authority') === 'local')
        .map((l) => textContent(l)),
    );
    expect(local).toEqual(['./suite.xml', './media_suite.xml']);

    // Follow the suite like a phone: its relative remote locations resolve against its URL.
    const suiteRes = await get(remote[0]!);
    expect(suiteRes.status).toBe(200);
    expect(suiteRes.headers.get('content-type')).toBe('application/xml');
    const suite = parseXmlTree(await suiteRes.text());
    const targets = [...childElements(suite, 'xform'), ...childElements(suite, 'locale')].map((x) => {
      const loc = childElements(childElements(x, 'resource')[0]!, 'location').find(
        (l) => attr(l, 'authority') === 'remote',
      )!;
      return new URL(textContent(loc), remote[0]).href;
    });
    expect(targets).toHaveLength(7);
    for (const url of targets) {
      const r = await get(url);
      expect(r.status, url).toBe(200);
      const body = await r.text();
      if (url.endsWith('.txt')) {
        expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(body).toContain('modules.m0=');
      } else expect(() => parseXmlTree(body)).not.toThrow();
    }
  });

  it('serves an imported app, its profile rewritten to this server and this project', async () => {
    const res = await get(`/a/demo/apps/download/${BASIC_ID}/profile.ccpr`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).not.toContain('https://www.commcarehq.org/a/ccqa/apps/download');
    expect(body).toContain(`${emu.url}/a/demo/apps/download/${BASIC_ID}/suite.xml`);
    expect(body).toContain(`value="${emu.url}/a/demo/phone/restore/${BASIC_ID}/"`);
    expect(body).toContain('value="demo.commcarehq.org"');
    // The update URL of a phone installed from HQ names media_profile.ccpr: same profile.
    const media_profile = await get(`/a/demo/apps/download/${BASIC_ID}/media_profile.ccpr?latest=true`);
    expect(media_profile.headers.get('content-type')).toBe('commcare/profile');
    expect(await media_profile.text()).toBe(body);
    // Multimedia stays where the app's HQ keeps it.
    const media = await (await get(`/a/demo/apps/download/${BASIC_ID}/media_suite.xml`)).text();
    expect(media).toContain('https://www.commcarehq.org/hq/multimedia/file/');
    const form = await get(`/a/demo/apps/download/${BASIC_ID}/modules-2/forms-2.xml`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="Close a Case"');
    const strings = await get(`/a/demo/apps/download/${BASIC_ID}/hin/app_strings.txt`);
    expect(strings.status).toBe(200);
    const png = await get(`/a/demo/apps/download/${BASIC_ID}/commcare/image/data/q_name-25t9zc.png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect((await png.arrayBuffer()).byteLength).toBe(4372);
  });

  it('asks for a user of the project, and answers 404 for unknown apps and files', async () => {
    expect((await get(`/a/demo/apps/download/${DEMO_APP_ID}/profile.ccpr`, null)).status).toBe(401);
    expect(
      (await get(`/a/demo/apps/download/${DEMO_APP_ID}/suite.xml`, basic('worker1', 'wrong'))).status,
    ).toBe(401);
    expect((await get(`/a/demo/apps/download/${DEMO_APP_ID}/suite.xml`, KEY)).status).toBe(200);
    expect((await get('/a/demo/apps/download/nope/profile.ccpr')).status).toBe(404);
    expect((await get(`/a/demo/apps/download/${DEMO_APP_ID}/modules-9/forms-0.xml`)).status).toBe(404);
    // The demo app is not in project "other", even for a user of "other".
    expect(
      (await get(`/a/other/apps/download/${DEMO_APP_ID}/profile.ccpr`, basic('w@other.commcarehq.org')))
        .status,
    ).toBe(404);
  });
});

describe('GET /a/<domain>/apps/api/download_ccz/', () => {
  it('zips the build, with the profile pointing at this server', async () => {
    for (const path of [
      `/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}`,
      `/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}&latest=release`,
      `/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}&version=3`,
      `/a/demo/apps/download_ccz/?app_id=${DEMO_APP_ID}&latest=save`,
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zip');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="fieldsim-demo.ccz"');
      const entries = unzipSync(new Uint8Array(await res.arrayBuffer()));
      expect(Object.keys(entries).sort()).toContain('modules-1/forms-0.xml');
      expect(Object.keys(entries)).toHaveLength(10);
      expect(strFromU8(entries['profile.ccpr']!)).toContain(
        `${emu.url}/a/demo/apps/download/${DEMO_APP_ID}/suite.xml`,
      );
    }
    const basicZip = await get(`/a/demo/apps/api/download_ccz/?app_id=${BASIC_ID}`);
    const files = readCcz(new Uint8Array(await basicZip.arrayBuffer()), 'downloaded');
    const original = readCcz(new Uint8Array(readFileSync(BASIC_CCZ)), 'original');
    expect([...files.keys()].sort()).toEqual([...original.keys()].sort());
    expect(files.get('modules-0/forms-9.xml')).toEqual(original.get('modules-0/forms-9.xml'));
  });

  it("answers direct_ccz's errors", async () => {
    const err = async (path: string) => {
      const res = await get(path);
      return [res.status, ((await res.json()) as { message: string }).message];
    };
    expect(await err('/a/demo/apps/api/download_ccz/')).toEqual([
      400,
      'You must specify `app_id` in your GET parameters',
    ]);
    expect(await err(`/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}&latest=newest`)).toEqual([
      400,
      "latest must be either 'release', 'build', or 'save'",
    ]);
    expect(await err(`/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}&latest=build&version=3`)).toEqual([
      400,
      "You can't specify both 'version' and 'latest'",
    ]);
    expect(await err(`/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}&version=x`)).toEqual([
      400,
      "'version' must be an integer",
    ]);
    expect(await err(`/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}&version=2`)).toEqual([
      404,
      'Application not found',
    ]);
    expect(await err('/a/demo/apps/api/download_ccz/?app_id=nope')).toEqual([404, 'Application not found']);
    expect((await get(`/a/demo/apps/api/download_ccz/?app_id=${DEMO_APP_ID}`, null)).status).toBe(401);
  });
});

describe('discovering apps', () => {
  it('lists the demo app and imported apps in list_apps and the Application Structure API', async () => {
    const list = (await (await get('/a/demo/apps/api/list_apps/', KEY)).json()) as {
      status: string;
      applications: { app_id: string; name: string; version: number; download_url: string }[];
    };
    expect(list.status).toBe('success');
    expect(list.applications.map((a) => [a.app_id, a.name, a.version]).sort()).toEqual(
      [
        [BASIC_ID, 'Basic Tests', 1399],
        [DEMO_APP_ID, 'fieldsim demo', 3],
      ].sort(),
    );
    const demo = list.applications.find((a) => a.app_id === DEMO_APP_ID)!;
    expect((await get(demo.download_url, KEY)).status).toBe(200);

    const api = (await (await get('/a/demo/api/v0.5/application/', KEY)).json()) as {
      objects: { id: string; name: string; modules: { name: Record<string, string>; case_type: string }[] }[];
    };
    const imported = api.objects.find((a) => a.id === BASIC_ID)!;
    expect(imported.name).toBe('Basic Tests');
    expect(imported.modules.find((m) => m.name.en === 'Case Tests')?.case_type).toBe('coverage_basic');
  });
});
