import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseStateHash } from '../../src/server/restore/state-hash.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, kids, multipart, xml } from './helpers.ts';

const ADMIN_KEY = 'ApiKey admin@example.com:fieldsim-demo-key';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator({ settings: { asyncRestoreThreshold: 20, asyncRetryAfter: 1, asyncPolls: 2 } });
});
afterAll(async () => {
  await emu.close();
});

function admin(path: string, method: string, body?: unknown) {
  return fetch(`${emu.url}/a/demo/fieldsim/${path}`, {
    method,
    headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('case-state hash', () => {
  it("matches HQ's Checksum doctest", () => {
    expect(caseStateHash(['abc123', '123abc'])).toBe('409c5c597fa2c2a693b769f0d2ad432b');
    expect(caseStateHash(['123abc', 'abc123'])).toBe('409c5c597fa2c2a693b769f0d2ad432b');
    expect(caseStateHash([])).toBe('');
  });
});

describe('authentication', () => {
  it('accepts ApiKey <username>:<key> and answers 400 to a malformed ApiKey header', async () => {
    const ok = await fetch(`${emu.url}/a/demo/phone/restore/?as=worker1`, {
      headers: { authorization: ADMIN_KEY },
    });
    expect(ok.status).toBe(200);
    expect(kids(xml(await ok.text()), 'case')).toHaveLength(25);
    const wrongKey = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: 'ApiKey admin@example.com:nope' },
    });
    expect(wrongKey.status).toBe(401);
    const malformed = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: 'ApiKey nocolon' },
    });
    expect(malformed.status).toBe(400);
  });

  it('answers 401 to as= for an unknown user and for a mobile worker without permission', async () => {
    const unknown = await fetch(`${emu.url}/a/demo/phone/restore/?as=ghost`, {
      headers: { authorization: ADMIN_KEY },
    });
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toBe('Invalid restore as user ghost');
    const worker = await fetch(`${emu.url}/a/demo/phone/restore/?as=worker2`, {
      headers: { authorization: basic('worker1') },
    });
    expect(worker.status).toBe(401);
  });

  it('answers 406 JSON for a deactivated mobile worker on restore and receiver, then 200 again when reactivated', async () => {
    expect((await admin('users/worker2/deactivate/', 'POST')).status).toBe(200);
    const r = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker2') },
    });
    expect(r.status).toBe(406);
    expect(await r.json()).toEqual({
      error: 'user.deactivated',
      default_response: expect.stringContaining('deactivated') as unknown as string,
    });
    const form = caseForm({ instanceId: 'deact', caseId: 'deact-case', body: '<update><a>b</a></update>' });
    const s = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: multipart(form),
      headers: { authorization: basic('worker2') },
    });
    expect(s.status).toBe(406);
    const sso = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker2', password: 'fieldsim' }),
    });
    expect(sso.status).toBe(403);
    expect((await admin('users/worker2/activate/', 'POST')).status).toBe(200);
    const again = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker2') },
    });
    expect(again.status).toBe(200);
  });

  it('refuses admin endpoints to mobile workers and anonymous callers', async () => {
    const anon = await fetch(`${emu.url}/a/demo/fieldsim/faults/`);
    expect(anon.status).toBe(401);
    const worker = await fetch(`${emu.url}/a/demo/fieldsim/faults/`, {
      headers: { authorization: basic('worker1') },
    });
    expect(worker.status).toBe(403);
  });
});

describe('restore options', () => {
  it('answers 202 with progress and Retry-After above the async threshold (OpenRosa >= 2.0), then the payload', async () => {
    const headers = { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' };
    const url = `${emu.url}/a/demo/phone/restore/?device_id=dev-async`;
    const first = await fetch(url, { headers });
    expect(first.status).toBe(202);
    expect(first.headers.get('retry-after')).toBe('1');
    const root = xml(await first.text());
    expect(kids(root, 'message')[0]!.attrs.nature).toBe('ota_restore_pending');
    const progress = kids(kids(root, 'Sync')[0]!, 'progress')[0]!;
    expect(progress.attrs).toMatchObject({ done: '0', total: '25', 'retry-after': '1' });
    const second = await fetch(url, { headers });
    expect(second.status).toBe(202);
    const done = Number(kids(kids(xml(await second.text()), 'Sync')[0]!, 'progress')[0]!.attrs.done);
    expect(done).toBeGreaterThan(0);
    const third = await fetch(url, { headers });
    expect(third.status).toBe(200);
    expect(kids(xml(await third.text()), 'case')).toHaveLength(25);
  });

  it('answers 200 at once without an OpenRosa version header', async () => {
    const res = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker1') },
    });
    expect(res.status).toBe(200);
  });

  it('repeats each case loadtest_factor times on a full restore', async () => {
    expect((await admin('users/worker2/loadtest-factor/', 'PUT', { factor: 3 })).status).toBe(200);
    const res = await fetch(`${emu.url}/a/demo/phone/restore/?items=true`, {
      headers: { authorization: basic('worker2') },
    });
    const root = xml(await res.text());
    const cases = kids(root, 'case');
    expect(cases).toHaveLength(75);
    const ids = new Set(cases.map((c) => c.attrs.case_id!));
    expect(ids.size).toBe(75);
    // Copies index the copies of their parents.
    for (const c of cases.filter((x) => x.attrs.case_id!.endsWith('-2'))) {
      const idx = kids(c, 'index')[0];
      if (idx) expect(ids.has(kids(idx, 'parent')[0]!.text)).toBe(true);
    }
    expect(Number(root.attrs.items)).toBe(root.children.length);
    await admin('users/worker2/loadtest-factor/', 'PUT', { factor: 1 });
  });
});
