import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, multipart } from './helpers.ts';

// A second emulator stands in for the real HQ; the first runs in proxy mode in front of it.
let upstream: StartedEmulator;
let proxy: StartedEmulator;

beforeAll(async () => {
  upstream = await startEmulator();
  proxy = await startEmulator({ upstream: upstream.url, seed: false });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

describe('proxy mode (--upstream)', () => {
  it('forwards SSO, restore and receiver calls with their credentials and returns the answers', async () => {
    const sso = await fetch(`${proxy.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
    });
    expect(sso.status).toBe(200);
    expect(((await sso.json()) as { username: string }).username).toBe('worker1@demo.commcarehq.org');

    const restore = await fetch(
      `${proxy.url}/a/demo/phone/restore/?version=2.0&items=true&device_id=via-proxy`,
      {
        headers: { authorization: basic('worker1') },
      },
    );
    expect(restore.status).toBe(200);
    expect(restore.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect((await restore.text()).match(/<case /g)).toHaveLength(25);
    // The query string reached the upstream unchanged: its sync log carries the device id.
    const log = upstream.app.db
      .prepare("SELECT COUNT(*) AS n FROM sync_logs WHERE device_id = 'via-proxy'")
      .get() as {
      n: number;
    };
    expect(log.n).toBe(1);
    expect(proxy.app.db.prepare('SELECT COUNT(*) AS n FROM sync_logs').get()).toEqual({ n: 0 });

    const form = caseForm({
      instanceId: 'via-proxy',
      caseId: 'via-proxy-case',
      body: '<create><case_type>household</case_type><case_name>Proxied</case_name></create>',
    });
    const submit = await fetch(`${proxy.url}/a/demo/receiver/`, {
      method: 'POST',
      body: multipart(form),
      headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
    });
    expect(submit.status).toBe(201);
    expect(submit.headers.get('x-commcarehq-formid')).toBe('via-proxy');
    expect(upstream.app.hq.processor.cases.get('via-proxy-case')?.name).toBe('Proxied');
  });

  it('passes error statuses and challenges through unchanged', async () => {
    const res = await fetch(`${proxy.url}/a/demo/phone/restore/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('answers 502 when the upstream is unreachable', async () => {
    const dead = await startEmulator({ upstream: 'http://127.0.0.1:9', seed: false });
    try {
      const res = await fetch(`${dead.url}/a/demo/phone/restore/`);
      expect(res.status).toBe(502);
    } finally {
      await dead.close();
    }
  });
});
