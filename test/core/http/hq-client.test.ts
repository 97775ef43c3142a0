import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors/http-error.ts';
import { NetworkError } from '../../../src/core/errors/network-error.ts';
import { basicAuthHeader, fullUsername } from '../../../src/core/http/basic-auth.ts';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import { fakeFetch, openRosa } from './fake-fetch.ts';

const base = {
  serverUrl: 'http://hq.test/',
  domain: 'demo',
  username: 'worker1',
  password: 'fieldsim',
  deviceId: 'dev-1',
};

describe('usernames and Basic auth', () => {
  it('expands short names like format_username', () => {
    expect(fullUsername('worker1', 'demo')).toBe('worker1@demo.commcarehq.org');
    expect(fullUsername(' Jane Doe ', 'Demo')).toBe('jane.doe@demo.commcarehq.org');
    expect(fullUsername('a@b.c', 'demo')).toBe('a@b.c');
  });
  it('encodes UTF-8 credentials', () => {
    expect(basicAuthHeader('u', 'pä👕')).toBe(`Basic ${btoa('u:p\u00c3\u00a4\u00f0\u009f\u0091\u0095')}`);
  });
});

describe('HqClient.login (SSO)', () => {
  it('posts form-encoded full username and parses the user', async () => {
    const f = fakeFetch(() =>
      Response.json({
        id: 'u1',
        username: 'worker1@demo.commcarehq.org',
        first_name: 'W',
        groups: ['g'],
        user_data: { a: 1 },
      }),
    );
    const c = new HqClient({ ...base, fetch: f });
    const user = await c.login();
    expect(user).toMatchObject({ id: 'u1', firstName: 'W', groups: ['g'], userData: { a: '1' } });
    const call = f.calls[0]!;
    expect(call.url).toBe('http://hq.test/a/demo/api/v0.5/sso/');
    expect(call.method).toBe('POST');
    expect(call.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
    expect(new URLSearchParams(call.body as string).get('username')).toBe('worker1@demo.commcarehq.org');
    expect(new URLSearchParams(call.body as string).get('password')).toBe('fieldsim');
    expect(call.headers.get('authorization')).toBeNull();
  });

  it('403 is auth-invalid, 429 rate-limited, refused connection a NetworkError', async () => {
    await expect(
      new HqClient({ ...base, fetch: fakeFetch(() => new Response(null, { status: 403 })) }).login(),
    ).rejects.toMatchObject({ code: 'auth-invalid', status: 403 });
    await expect(
      new HqClient({ ...base, fetch: fakeFetch(() => new Response(null, { status: 429 })) }).login(),
    ).rejects.toMatchObject({ code: 'rate-limited' });
    const err = await new HqClient({ ...base, fetch: () => Promise.reject(new TypeError('fetch failed')) })
      .login()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('network-error');
  });

  it('times out with a typed error', async () => {
    const hang = (_i: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_r, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const c = new HqClient({ ...base, fetch: hang, timeouts: { loginMs: 50 } });
    await expect(c.login()).rejects.toMatchObject({ code: 'timeout', name: 'NetworkError' });
  });
});

describe('HqClient.restore', () => {
  it('sends CommCare params and headers and hands back the body stream', async () => {
    const f = fakeFetch(
      () => new Response('<OpenRosaResponse/>', { status: 200, headers: { 'content-length': '19' } }),
    );
    const c = new HqClient({ ...base, fetch: f, appVersion: '2.53' });
    const r = await c.restore({ since: 'tok1', stateHash: 'abc' });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.bytesTotal).toBe(19);
    expect(await new Response(r.body).text()).toBe('<OpenRosaResponse/>');
    const u = new URL(f.calls[0]!.url);
    expect(u.pathname).toBe('/a/demo/phone/restore/');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      version: '2.0',
      items: 'true',
      device_id: 'dev-1',
      since: 'tok1',
      state: 'ccsh:abc',
    });
    const h = f.calls[0]!.headers;
    expect(h.get('x-openrosa-version')).toBe('3.0');
    expect(h.get('x-openrosa-deviceid')).toBe('dev-1');
    expect(h.get('x-commcarehq-lastsynctoken')).toBe('tok1');
    expect(h.get('x-openrosa-commcare-version')).toBe('2.53');
    expect(h.get('authorization')).toBe(basicAuthHeader('worker1@demo.commcarehq.org', 'fieldsim'));
  });

  it('full restore sends neither since nor state', async () => {
    const f = fakeFetch(() => new Response('x'));
    await new HqClient({ ...base, fetch: f }).restore({ stateHash: 'abc' });
    const u = new URL(f.calls[0]!.url);
    expect(u.searchParams.has('since')).toBe(false);
    expect(u.searchParams.has('state')).toBe(false);
    expect(f.calls[0]!.headers.get('x-commcarehq-lastsynctoken')).toBeNull();
  });

  it('202 gives Retry-After and progress', async () => {
    const body = `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature='ota_restore_pending'>Asynchronous restore under way for x</message><Sync xmlns="http://commcarehq.org/sync"><progress done="55" total="10000" retry-after="2"/></Sync></OpenRosaResponse>`;
    const c = new HqClient({
      ...base,
      fetch: fakeFetch(() => new Response(body, { status: 202, headers: { 'retry-after': '3' } })),
    });
    expect(await c.restore()).toEqual({
      status: 'pending',
      retryAfterMs: 3000,
      progress: { done: 55, total: 10000 },
      message: 'Asynchronous restore under way for x',
    });
    const c2 = new HqClient({ ...base, fetch: fakeFetch(() => new Response(body, { status: 202 })) });
    expect(await c2.restore()).toMatchObject({ retryAfterMs: 2000 });
  });

  it.each([
    [401, 'auth-invalid'],
    [406, 'user-deactivated'],
    [412, 'restore-needed'],
    [429, 'rate-limited'],
    [503, 'rate-limited'],
    [500, 'server-error'],
  ] as const)('%i throws %s', async (status, code) => {
    const c = new HqClient({
      ...base,
      fetch: fakeFetch(
        () => new Response(status === 412 ? openRosa('ota_restore_error', 'bad token') : '', { status }),
      ),
    });
    const e = await c.restore().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).code).toBe(code);
  });
});

describe('HqClient.submit', () => {
  it('posts multipart with xml_submission_file (.xml) and attachment parts plus OpenRosa headers', async () => {
    const f = fakeFetch(() => new Response(openRosa('submit_success', '   √   '), { status: 201 }));
    const c = new HqClient({
      ...base,
      fetch: f,
      clock: { now: () => Date.parse('2026-03-01T10:00:00Z'), sleep: async () => {} },
    });
    const xml = '<data xmlns="x">👕</data>';
    const out = await c.submit({
      xml,
      lastSyncToken: 'tok',
      attachments: [
        { name: 'photo.jpg', blob: new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' }) },
      ],
    });
    expect(out).toMatchObject({ status: 'accepted', duplicate: false });
    const call = f.calls[0]!;
    expect(call.url).toBe('http://hq.test/a/demo/receiver/');
    const fd = call.body as FormData;
    const part = fd.get('xml_submission_file') as File;
    expect(part.name.endsWith('.xml')).toBe(true);
    expect(await part.text()).toBe(xml);
    const photo = fd.get('photo.jpg') as File;
    expect(new Uint8Array(await photo.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(call.headers.get('x-openrosa-version')).toBe('3.0');
    expect(call.headers.get('x-commcarehq-lastsynctoken')).toBe('tok');
    expect(call.headers.get('x-openrosa-deviceid')).toBe('dev-1');
    expect(call.headers.get('date')).toBe('Sun, 01 Mar 2026 10:00:00 GMT');
  });

  it('a network failure is a retry outcome, never a throw; abort throws', async () => {
    const c = new HqClient({ ...base, fetch: () => Promise.reject(new TypeError('socket hang up')) });
    expect(await c.submit({ xml: '<a/>' })).toMatchObject({ status: 'retry', code: 'network-error' });
    const ac = new AbortController();
    ac.abort();
    const c2 = new HqClient({ ...base, fetch: (_i, init) => Promise.reject(init?.signal?.reason) });
    await expect(c2.submit({ xml: '<a/>', signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('never retries a POST by itself', async () => {
    const f = fakeFetch(() => new Response('', { status: 503 }));
    await new HqClient({ ...base, fetch: f }).submit({ xml: '<a/>' });
    expect(f.calls).toHaveLength(1);
  });
});

describe('generic OpenRosa servers (ODK Central / Aggregate conventions)', () => {
  const submissionUrl = 'http://central.test/v1/key/tok123/projects/1/submission';

  it('HEAD pre-flight and POST go to the configured submission URL; the accepted length is read', async () => {
    const f = fakeFetch((req) =>
      req.method === 'HEAD'
        ? new Response(null, { status: 204, headers: { 'x-openrosa-accept-content-length': '10485760' } })
        : new Response(
            '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message>full submission upload was successful!</message></OpenRosaResponse>',
            { status: 201 },
          ),
    );
    const c = new HqClient({ ...base, fetch: f, submissionUrl });
    expect(await c.preflight()).toBe(10485760);
    const out = await c.submit({ xml: '<data id="f1" version="2" xmlns="http://opendatakit.org/f1"/>' });
    expect(out).toMatchObject({ status: 'accepted' });
    // Collect's uploader adds `deviceID` to the URL; Central stores it with the submission.
    expect(f.calls.map((r) => `${r.method} ${r.url}`)).toEqual([
      `HEAD ${submissionUrl}?deviceID=dev-1`,
      `POST ${submissionUrl}?deviceID=dev-1`,
    ]);
    for (const r of f.calls) {
      // Central answers any other version with 400 "invalid header": the old recipe's 3.0
      // quarantined every form.
      expect(r.headers.get('x-openrosa-version')).toBe('1.0');
      expect(r.headers.get('authorization')).toBe(basicAuthHeader('worker1', 'fieldsim'));
    }
    expect(((f.calls[1]!.body as FormData).get('xml_submission_file') as File).name.endsWith('.xml')).toBe(
      true,
    );
  });

  it('an app-user token URL sends no Authorization; an explicit version and deviceID are kept', async () => {
    const f = fakeFetch(() => new Response('', { status: 201 }));
    const c = new HqClient({
      ...base,
      username: '',
      password: '',
      openRosaVersion: '1.0',
      fetch: f,
      submissionUrl: `${submissionUrl}?deviceID=collect%3Aabc`,
    });
    expect(await c.submit({ xml: '<a/>' })).toMatchObject({ status: 'accepted' });
    expect(f.calls[0]!.url).toBe(`${submissionUrl}?deviceID=collect%3Aabc`);
    expect(f.calls[0]!.headers.get('authorization')).toBeNull();
  });

  it('HQ keeps X-OpenRosa-Version 3.0 and the full username', async () => {
    const f = fakeFetch(() => new Response('', { status: 201 }));
    await new HqClient({ ...base, fetch: f }).submit({ xml: '<a/>' });
    expect(f.calls[0]!.headers.get('x-openrosa-version')).toBe('3.0');
    expect(f.calls[0]!.url).toBe('http://hq.test/a/demo/receiver/');
    expect(f.calls[0]!.headers.get('authorization')).toBe(
      basicAuthHeader('worker1@demo.commcarehq.org', 'fieldsim'),
    );
  });

  it('a 403 pauses like a 401 (revoked app user), numeric references in the message decoded', async () => {
    const f = fakeFetch(
      () =>
        new Response(
          '<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0"><message nature="error">The authenticated actor does not have rights to perform that action &#x2F; caf&#233; &#128512;</message></OpenRosaResponse>',
          { status: 403 },
        ),
    );
    const out = await new HqClient({ ...base, fetch: f, submissionUrl }).submit({ xml: '<a/>' });
    expect(out).toEqual({
      status: 'auth',
      code: 'forbidden',
      httpStatus: 403,
      message: 'The authenticated actor does not have rights to perform that action / café 😀',
    });
  });

  it('a 409 (conflicting duplicate on ODK Central) is a permanent conflict, not a retry', async () => {
    const f = fakeFetch(
      () =>
        new Response(
          '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message>A submission already exists with this ID, but with different XML.</message></OpenRosaResponse>',
          { status: 409 },
        ),
    );
    const out = await new HqClient({ ...base, fetch: f, submissionUrl }).submit({ xml: '<a/>' });
    expect(out).toMatchObject({ status: 'rejected', reason: 'conflict' });
  });
});
