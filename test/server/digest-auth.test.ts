import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic } from './helpers.ts';

/** Digest by hand, as curl --digest would compute it (RFC 7616 3.4.1, qop=auth). */
function h(alg: 'MD5' | 'SHA-256', s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s)
    .digest('hex');
}

interface Challenge {
  realm: string;
  nonce: string;
  opaque: string;
  algorithm: string;
  stale: boolean;
}

function challenges(res: Response): Challenge[] {
  const out: Challenge[] = [];
  const header = res.headers.get('www-authenticate') ?? '';
  for (const m of header.matchAll(/Digest ([\s\S]*?)(?=, Digest |, Basic |$)/g)) {
    const p = Object.fromEntries(
      [...m[1]!.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)].map((x) => [x[1]!, x[2] ?? x[3] ?? '']),
    );
    out.push({
      realm: p.realm ?? '',
      nonce: p.nonce ?? '',
      opaque: p.opaque ?? '',
      algorithm: p.algorithm ?? 'MD5',
      stale: p.stale === 'true',
    });
  }
  return out;
}

function digestHeader(opts: {
  user: string;
  password: string;
  method: string;
  uri: string;
  ch: Challenge;
  alg?: 'MD5' | 'SHA-256';
  nc?: number;
  realm?: string;
}): string {
  const alg = opts.alg ?? 'MD5';
  const realm = opts.realm ?? opts.ch.realm;
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = h(alg, `${opts.user}:${realm}:${opts.password}`);
  const ha2 = h(alg, `${opts.method}:${opts.uri}`);
  const response = h(alg, `${ha1}:${opts.ch.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${opts.user}", realm="${realm}", nonce="${opts.ch.nonce}", uri="${opts.uri}", algorithm=${alg}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", opaque="${opts.ch.opaque}"`;
}

let emu: StartedEmulator;
let short: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
  short = await startEmulator({ settings: { digestNonceSeconds: 1 } });
});
afterAll(async () => {
  await emu.close();
  await short.close();
});

const RESTORE = '/a/demo/phone/restore/?version=2.0&items=true';
const API = '/a/demo/api/v0.5/user/?limit=1';

async function firstChallenge(base: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers });
  expect(res.status).toBe(401);
  return challenges(res);
}

describe('HTTP Digest on the emulator', () => {
  it('challenges J2ME phones with Digest (MD5 first, then SHA-256) and accepts an MD5 answer', async () => {
    const chs = await firstChallenge(emu.url, RESTORE, { 'user-agent': 'Nokia6300/2.0 Profile/MIDP-2.0' });
    expect(chs.map((c) => c.algorithm)).toEqual(['MD5', 'SHA-256']);
    expect(chs[0]!.realm).toBe('DJANGO');
    const auth = digestHeader({
      user: 'worker1@demo.commcarehq.org',
      password: 'fieldsim',
      method: 'GET',
      uri: RESTORE,
      ch: chs[0]!,
    });
    const ok = await fetch(`${emu.url}${RESTORE}`, { headers: { authorization: auth } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<OpenRosaResponse');
  });

  it('phone endpoints still challenge Android/curl with Basic when no credentials are sent', async () => {
    const res = await fetch(`${emu.url}${RESTORE}`);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(challenges(res)).toEqual([]);
  });

  it('the API offers Basic and Digest; SHA-256 with the short mobile name works on the receiver', async () => {
    const api = await firstChallenge(emu.url, API);
    expect(api.length).toBe(2);
    const ok = await fetch(`${emu.url}${API}`, {
      headers: {
        authorization: digestHeader({
          user: 'admin@example.com',
          password: 'fieldsim',
          method: 'GET',
          uri: API,
          ch: api[1]!,
          alg: 'SHA-256',
        }),
      },
    });
    expect(ok.status).toBe(200);
    // A mobile worker by Digest on the API is authenticated, then refused (403), as with Basic.
    const worker = await fetch(`${emu.url}${API}`, {
      headers: {
        authorization: digestHeader({
          user: 'worker1',
          password: 'fieldsim',
          method: 'GET',
          uri: API,
          ch: api[0]!,
          nc: 2,
        }),
      },
    });
    expect(worker.status).toBe(403);

    const uri = '/a/demo/receiver/';
    const form = `<data xmlns="http://example.org/digest"><meta xmlns="http://openrosa.org/jr/xforms"><instanceID>digest-form-1</instanceID><userID>x</userID></meta></data>`;
    const post = await fetch(`${emu.url}${uri}`, {
      method: 'POST',
      body: form,
      headers: {
        'content-type': 'text/xml',
        authorization: digestHeader({
          user: 'worker1',
          password: 'fieldsim',
          method: 'POST',
          uri,
          ch: api[1]!,
          alg: 'SHA-256',
          // Both challenges carry one nonce, whose count is already at 2.
          nc: 3,
        }),
      },
    });
    expect(post.status).toBe(201);
  });

  it('refuses a wrong password, a wrong realm, a replayed nonce count and a wrong uri with a fresh Digest challenge', async () => {
    const [ch] = await firstChallenge(emu.url, RESTORE, { 'user-agent': 'MIDP-2.0' });
    const base = { user: 'worker2', method: 'GET', uri: RESTORE, ch: ch! };
    const wrong = await fetch(`${emu.url}${RESTORE}`, {
      headers: { authorization: digestHeader({ ...base, password: 'nope' }) },
    });
    expect(wrong.status).toBe(401);
    expect(challenges(wrong)[0]!.stale).toBe(false);
    const realm = await fetch(`${emu.url}${RESTORE}`, {
      headers: { authorization: digestHeader({ ...base, password: 'fieldsim', realm: 'fieldsim' }) },
    });
    expect(realm.status).toBe(401);
    expect(challenges(realm).length).toBe(2);
    const once = digestHeader({ ...base, password: 'fieldsim', nc: 5 });
    expect((await fetch(`${emu.url}${RESTORE}`, { headers: { authorization: once } })).status).toBe(200);
    // The same nonce count again is a replay.
    expect((await fetch(`${emu.url}${RESTORE}`, { headers: { authorization: once } })).status).toBe(401);
    const otherUri = digestHeader({ ...base, password: 'fieldsim', nc: 6, uri: '/a/demo/phone/restore/' });
    expect((await fetch(`${emu.url}${RESTORE}`, { headers: { authorization: otherUri } })).status).toBe(401);
    // A nonce the emulator never issued.
    const forged = digestHeader({ ...base, password: 'fieldsim', ch: { ...ch!, nonce: 'abc.def.ghi' } });
    expect((await fetch(`${emu.url}${RESTORE}`, { headers: { authorization: forged } })).status).toBe(401);
  });

  it('answers an expired nonce with stale=true, and the new nonce works', async () => {
    const [ch] = await firstChallenge(short.url, RESTORE, { 'user-agent': 'MIDP-2.0' });
    await new Promise((r) => setTimeout(r, 1_200));
    const late = await fetch(`${short.url}${RESTORE}`, {
      headers: {
        authorization: digestHeader({
          user: 'worker1',
          password: 'fieldsim',
          method: 'GET',
          uri: RESTORE,
          ch: ch!,
        }),
      },
    });
    expect(late.status).toBe(401);
    const fresh = challenges(late);
    expect(fresh[0]!.stale).toBe(true);
    expect(fresh[0]!.nonce).not.toBe(ch!.nonce);
    const again = await fetch(`${short.url}${RESTORE}`, {
      headers: {
        authorization: digestHeader({
          user: 'worker1',
          password: 'fieldsim',
          method: 'GET',
          uri: RESTORE,
          ch: fresh[0]!,
        }),
      },
    });
    expect(again.status).toBe(200);
    // A wrong password with an expired nonce is not "stale": the client must not retry silently.
    await new Promise((r) => setTimeout(r, 1_200));
    const bad = await fetch(`${short.url}${RESTORE}`, {
      headers: {
        authorization: digestHeader({
          user: 'worker1',
          password: 'x',
          method: 'GET',
          uri: RESTORE,
          ch: fresh[0]!,
          nc: 2,
        }),
      },
    });
    expect(challenges(bad)[0]!.stale).toBe(false);
  });

  it('a password changed through the API changes the digest; Basic keeps working', async () => {
    const admin = basic('admin@example.com');
    const sso = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'worker2', password: 'fieldsim' }),
    });
    const id = ((await sso.json()) as { id: string }).id;
    const put = await fetch(`${emu.url}/a/demo/api/v0.5/user/${id}/`, {
      method: 'PUT',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'changed-pw' }),
    });
    expect(put.status).toBeLessThan(300);
    const [ch] = await firstChallenge(emu.url, RESTORE, { 'user-agent': 'MIDP-2.0' });
    const old = await fetch(`${emu.url}${RESTORE}`, {
      headers: {
        authorization: digestHeader({
          user: 'worker2',
          password: 'fieldsim',
          method: 'GET',
          uri: RESTORE,
          ch: ch!,
        }),
      },
    });
    expect(old.status).toBe(401);
    const now = await fetch(`${emu.url}${RESTORE}`, {
      headers: {
        authorization: digestHeader({
          user: 'worker2',
          password: 'changed-pw',
          method: 'GET',
          uri: RESTORE,
          ch: ch!,
          nc: 2,
        }),
      },
    });
    expect(now.status).toBe(200);
    const b = await fetch(`${emu.url}${RESTORE}`, {
      headers: { authorization: basic('worker2', 'changed-pw') },
    });
    expect(b.status).toBe(200);
  });
});
