import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator } from '../../../src/server/emulator.ts';
import { insideRoot } from '../../../src/server/routes/static.ts';
import { type StartedEmulator, startEmulator } from '../../helpers/start-emulator.ts';
import { basic, caseForm } from '../helpers.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

/** A POST through node:http, streaming `size` bytes unless the answer comes first. */
function postHuge(
  path: string,
  size: number,
  opts: { contentLength: boolean; type: string },
): Promise<{ status: number; ms: number; sent: number }> {
  const url = new URL(emu.url + path);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': opts.type };
    if (opts.contentLength) headers['content-length'] = size;
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers });
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, sent });
      req.destroy();
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const pump = (): void => {
      while (!answered && sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('Cache-Control: no-store on restore and API answers', () => {
  it('is sent on restores, API lists, SSO and admin answers', async () => {
    const restore = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('worker1'), 'x-openrosa-version': '3.0' },
    });
    expect(restore.status).toBe(200);
    await restore.text();
    expect(restore.headers.get('cache-control')).toBe('no-store');
    const api = await fetch(`${emu.url}/a/demo/api/v0.5/user/`, {
      headers: { authorization: basic('admin@example.com') },
    });
    expect(api.status).toBe(200);
    await api.text();
    expect(api.headers.get('cache-control')).toBe('no-store');
    const sso = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
    });
    expect(sso.status).toBe(200);
    await sso.text();
    expect(sso.headers.get('cache-control')).toBe('no-store');
  });
});

describe('body limits', () => {
  it('refuses a 1 GB SSO body announced by Content-Length with 413 at once', async () => {
    const r = await postHuge('/a/demo/api/v0.5/sso/', 1024 ** 3, {
      contentLength: true,
      type: 'application/x-www-form-urlencoded',
    });
    expect(r.status).toBe(413);
    expect(r.ms).toBeLessThan(1000);
    expect(r.sent).toBeLessThan(64 * 1024 ** 2);
  });

  it('refuses a chunked SSO body once it passes 64 KiB, without reading the rest', async () => {
    const r = await postHuge('/a/demo/api/v0.5/sso/', 1024 ** 3, {
      contentLength: false,
      type: 'application/x-www-form-urlencoded',
    });
    expect(r.status).toBe(413);
    expect(r.ms).toBeLessThan(1000);
    expect(r.sent).toBeLessThan(64 * 1024 ** 2);
  });

  it('refuses JSON API and admin bodies over 1 MiB, and keeps serving others', async () => {
    const api = await postHuge('/a/demo/api/v0.5/user/', 200 * 1024 ** 2, {
      contentLength: false,
      type: 'application/json',
    });
    expect(api.status).toBe(413);
    expect(api.ms).toBeLessThan(1000);
    const admin = await postHuge('/a/demo/fieldsim/faults/', 200 * 1024 ** 2, {
      contentLength: true,
      type: 'application/json',
    });
    expect(admin.status).toBe(413);
    // A normal SSO still works right after.
    const ok = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
    });
    expect(ok.status).toBe(200);
  });

  it('keeps serving logins while oversized bodies are refused in parallel', async () => {
    const started = performance.now();
    const [a, b, login] = await Promise.all([
      postHuge('/a/demo/api/v0.5/sso/', 512 * 1024 ** 2, {
        contentLength: false,
        type: 'application/x-www-form-urlencoded',
      }),
      postHuge('/a/demo/api/v0.5/user/', 512 * 1024 ** 2, { contentLength: false, type: 'application/json' }),
      fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'worker2', password: 'fieldsim' }),
      }),
    ]);
    expect([a.status, b.status, login.status]).toEqual([413, 413, 200]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('still accepts bodies under the limit', async () => {
    const res = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker1', password: 'fieldsim', pad: 'x'.repeat(60 * 1024) }),
    });
    expect(res.status).toBe(200);
  });
});

describe('invalid UTF-8 in a submission', () => {
  it('answers a typed 422 and stores nothing', async () => {
    const form = caseForm({
      instanceId: 'bad-utf8-form',
      caseId: 'bad-utf8-case',
      body: '<create><case_type>t</case_type><case_name>NAME</case_name></create>',
    });
    const at = form.indexOf('NAME');
    const bytes = Buffer.concat([
      Buffer.from(form.slice(0, at)),
      Buffer.from([0x4e, 0xff, 0xfe, 0x41]),
      Buffer.from(form.slice(at + 4)),
    ]);
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: bytes,
      headers: { authorization: basic('worker1'), 'content-type': 'text/xml' },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain('processing_failure');
    expect(body).toContain('not valid UTF-8');
    const db = emu.app.db;
    expect(db.prepare('SELECT count(*) AS n FROM forms WHERE form_id = ?').get('bad-utf8-form')).toEqual({
      n: 0,
    });
    expect(db.prepare('SELECT count(*) AS n FROM cases WHERE case_id = ?').get('bad-utf8-case')).toEqual({
      n: 0,
    });
    // The same form in valid UTF-8 goes through.
    const good = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: form,
      headers: { authorization: basic('worker1'), 'content-type': 'text/xml' },
    });
    expect(good.status).toBe(201);
  });

  it('refuses it in the xml part of a multipart submission too', async () => {
    const form = caseForm({
      instanceId: 'bad-utf8-multipart',
      caseId: 'bad-utf8-case-2',
      body: '<create><case_type>t</case_type><case_name>NAME</case_name></create>',
    });
    const at = form.indexOf('NAME');
    const bytes = new Uint8Array(
      Buffer.concat([
        Buffer.from(form.slice(0, at)),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(form.slice(at + 4)),
      ]),
    );
    const fd = new FormData();
    fd.append('xml_submission_file', new Blob([bytes], { type: 'text/xml' }), 'form.xml');
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: fd,
      headers: { authorization: basic('worker1') },
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('not valid UTF-8');
    const db = emu.app.db;
    expect(db.prepare('SELECT count(*) AS n FROM forms WHERE form_id = ?').get('bad-utf8-multipart')).toEqual(
      {
        n: 0,
      },
    );
  });
});

describe('static files', () => {
  it('never serves a sibling folder through %2f after "..": /..%2fdist-secret/x', async () => {
    const base = mkdtempSync(join(tmpdir(), 'fieldsim-static-'));
    try {
      const dist = join(base, 'dist');
      mkdirSync(dist);
      mkdirSync(join(base, 'dist-secret'));
      writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
      writeFileSync(join(dist, 'ok.txt'), 'public');
      writeFileSync(join(base, 'dist-secret', 'x'), 'SECRET');
      writeFileSync(join(base, 'secret.txt'), 'SECRET');
      const app = createEmulator({ dataDir: join(base, 'data'), staticDir: dist });
      try {
        const get = async (p: string) => {
          const res = await app.fetch(new Request(`http://local${p}`));
          return { status: res.status, text: await res.text() };
        };
        expect(await get('/ok.txt')).toEqual({ status: 200, text: 'public' });
        for (const p of [
          '/..%2fdist-secret/x',
          '/..%2Fdist-secret%2Fx',
          '/%2e%2e%2fdist-secret/x',
          '/..%2f..%2f' + base.slice(1).replaceAll('/', '%2f') + '%2fsecret.txt',
          '/..%5cdist-secret/x',
        ]) {
          const r = await get(p);
          expect(r.text, p).not.toContain('SECRET');
        }
      } finally {
        app.close();
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('compares whole path segments', () => {
    expect(insideRoot('/srv/dist', '/../dist-secret/x')).toBeNull();
    expect(insideRoot('/srv/dist', '/../../etc/passwd')).toBeNull();
    expect(insideRoot('/srv/dist', '/a/../../dist2/x')).toBeNull();
    expect(insideRoot('/srv/dist', '/assets/app.js')).toBe('/srv/dist/assets/app.js');
    expect(insideRoot('/srv/dist', '/a/../b.txt')).toBe('/srv/dist/b.txt');
    expect(insideRoot('/srv/dist', '/..foo')).toBe('/srv/dist/..foo');
  });
});

describe('credentials at rest', () => {
  it('stores API keys as digests, still accepts the key, refuses a wrong one', async () => {
    const row = emu.app.db
      .prepare("SELECT api_key FROM users WHERE username = 'admin@example.com'")
      .get() as {
      api_key: string;
    };
    expect(row.api_key).not.toContain('fieldsim-demo-key');
    expect(row.api_key).toMatch(/^sha256\$[0-9a-f]{64}$/);
    const ok = await fetch(`${emu.url}/a/demo/api/v0.5/user/`, {
      headers: { authorization: 'ApiKey admin@example.com:fieldsim-demo-key' },
    });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${emu.url}/a/demo/api/v0.5/user/`, {
      headers: { authorization: 'ApiKey admin@example.com:fieldsim-demo-kez' },
    });
    expect(bad.status).toBe(401);
    const digest = await fetch(`${emu.url}/a/demo/api/v0.5/user/`, {
      headers: { authorization: `ApiKey admin@example.com:${row.api_key}` },
    });
    expect(digest.status).toBe(401);
  });

  it('migrates keys stored in clear by an older version, and makes the folder 0700 / database 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-keys-'));
    try {
      const first = createEmulator({ dataDir: dir });
      first.db
        .prepare("UPDATE users SET api_key = 'clear-text-key' WHERE username = 'admin@example.com'")
        .run();
      first.close();
      const second = createEmulator({ dataDir: dir });
      try {
        const stored = (
          second.db.prepare("SELECT api_key FROM users WHERE username = 'admin@example.com'").get() as {
            api_key: string;
          }
        ).api_key;
        expect(stored).toMatch(/^sha256\$/);
        expect(stored).not.toContain('clear-text-key');
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        expect(statSync(join(dir, 'fieldsim-hq.sqlite')).mode & 0o777).toBe(0o600);
        expect(statSync(join(dir, 'fieldsim-hq.sqlite-wal')).mode & 0o777).toBe(0o600);
      } finally {
        second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers unknown users as slowly as known ones with a wrong password', async () => {
    const time = async (username: string): Promise<number> => {
      const t = performance.now();
      const res = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
        headers: { authorization: basic(username, 'wrong-password') },
      });
      await res.text();
      expect(res.status).toBe(401);
      return performance.now() - t;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time('worker1'));
      unknown.push(await time(`nobody${i}`));
    }
    // Both pay one PBKDF2 (60k iterations, tens of ms); without the dummy check an unknown
    // user answered in about a millisecond.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });
});
