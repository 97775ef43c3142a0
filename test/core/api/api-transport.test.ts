import { describe, expect, it } from 'vitest';
import { apiHttpError, redactUrl, serverMessageOf } from '../../../src/core/api/api-transport.ts';
import { HqApiClient, type HqApiClientOptions } from '../../../src/core/api/hq-api-client.ts';
import { HttpError } from '../../../src/core/errors/http-error.ts';
import { NetworkError } from '../../../src/core/errors/network-error.ts';
import type { FetchLike } from '../../../src/core/platform.ts';

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

/** A fetch that records requests and answers them in turn from `answers` (the last repeats). */
function scripted(...answers: (() => Response)[]): FetchLike & { calls: Call[] } {
  const calls: Call[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const body = req.method === 'GET' || req.method === 'HEAD' ? null : await req.text();
    calls.push({ url: req.url, method: req.method, headers: req.headers, body });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (!answer) throw new Error('no answer scripted');
    return answer();
  };
  return Object.assign(f, { calls });
}

const json =
  (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
const empty =
  (status: number, headers: Record<string, string> = {}) =>
  () =>
    new Response(null, { status, headers });

const page = (objects: unknown[], meta: Record<string, unknown> = {}) => ({
  meta: { limit: 20, offset: 0, next: null, previous: null, total_count: objects.length, ...meta },
  objects,
});

const KEY = 'secret-key-123';
function client(f: FetchLike, extra: Partial<HqApiClientOptions> = {}) {
  const sleeps: number[] = [];
  const api = new HqApiClient({
    serverUrl: 'http://hq.test/',
    domain: 'demo',
    auth: { kind: 'api-key', username: 'admin@example.com', key: KEY },
    fetch: f,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { api, sleeps };
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('HqApiClient transport', () => {
  it('sends ApiKey auth in the header, JSON accept, and no credentials in the URL', async () => {
    const f = scripted(json(page([])));
    const { api } = client(f);
    await api.cases.list({ type: 'household', closed: false, limit: 5 });
    const call = f.calls[0];
    expect(call?.headers.get('authorization')).toBe(`ApiKey admin@example.com:${KEY}`);
    expect(call?.headers.get('accept')).toBe('application/json');
    expect(call?.url).toBe('http://hq.test/a/demo/api/v0.5/case/?type=household&closed=false&limit=5');
    expect(call?.url).not.toContain(KEY);
  });

  it('sends Basic auth as UTF-8 base64', async () => {
    const f = scripted(json(page([])));
    const { api } = client(f, { auth: { kind: 'basic', username: 'admin@example.com', password: 'pä:ss' } });
    await api.users.list();
    const header = f.calls[0]?.headers.get('authorization') ?? '';
    expect(header.startsWith('Basic ')).toBe(true);
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(header.slice(6)), (ch) => ch.charCodeAt(0)),
    );
    expect(decoded).toBe('admin@example.com:pä:ss');
  });

  it('formats Date filters as HQ takes them (naive UTC) and passes strings unchanged', async () => {
    const f = scripted(json(page([])));
    const { api } = client(f);
    await api.forms.list({
      received_on_start: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      received_on_end: '2026-01-31',
      xmlns: 'http://x/y',
    });
    const q = new URL(f.calls[0]?.url ?? '').searchParams;
    expect(q.get('received_on_start')).toBe('2026-01-02T03:04:05');
    expect(q.get('received_on_end')).toBe('2026-01-31');
    expect(q.get('xmlns')).toBe('http://x/y');
  });

  it('429 then 200: waits Retry-After seconds, then answers', async () => {
    const f = scripted(empty(429, { 'retry-after': '3' }), json(page([{ id: 'u1' }])));
    const retries: number[] = [];
    const { api, sleeps } = client(f, { onRetry: (i) => retries.push(i.attempt) });
    const res = await api.users.list();
    expect(res.objects).toEqual([{ id: 'u1' }]);
    expect(sleeps).toEqual([3000]);
    expect(retries).toEqual([1]);
    expect(f.calls).toHaveLength(2);
  });

  it('429 without Retry-After: exponential back-off with jitter, capped; then a typed error', async () => {
    const f = scripted(empty(429));
    const { api, sleeps } = client(f, { retry: { maxAttempts: 5, baseMs: 1000, capMs: 3000 } });
    const e = await caught(api.cases.list());
    // random() = 0.5 with equal jitter: 3/4 of 1 s, 2 s, then the 3 s cap.
    expect(sleeps).toEqual([750, 1500, 2250, 2250]);
    expect(f.calls).toHaveLength(5);
    expect(e).toBeInstanceOf(HttpError);
    expect(e).toMatchObject({ code: 'rate-limited', status: 429, retryable: true });
  });

  it('a POST answered 429 is sent again with the same body', async () => {
    const f = scripted(empty(429), json({ id: 'w1', username: 'qa1@demo.commcarehq.org' }, 201));
    const { api } = client(f);
    const w = await api.users.create({ username: 'qa1', password: 'pw' });
    expect(w.id).toBe('w1');
    expect(f.calls.map((c) => c.method)).toEqual(['POST', 'POST']);
    expect(f.calls[1]?.body).toBe(f.calls[0]?.body);
    expect(JSON.parse(f.calls[0]?.body ?? '')).toEqual({ username: 'qa1', password: 'pw' });
  });

  it('a Retry-After longer than the cap is not waited for', async () => {
    const f = scripted(empty(429, { 'retry-after': '3600' }));
    const { api, sleeps } = client(f);
    const e = await caught(api.cases.list());
    expect(sleeps).toEqual([]);
    expect(e).toMatchObject({ code: 'rate-limited', retryAfterMs: 3_600_000 });
  });

  it('maps 400/401/403/404/500 to typed errors with the server message, never the key', async () => {
    const cases: [() => Response, string, string | undefined][] = [
      [json({ error: "Invalid limit '-1' provided." }, 400), 'bad-request', "Invalid limit '-1' provided."],
      [empty(401, { 'www-authenticate': 'Basic realm="x"' }), 'auth-invalid', undefined],
      [empty(403), 'forbidden', undefined],
      [
        json({ error_message: 'Sorry, this request could not be processed.' }, 404),
        'not-found',
        'Sorry, this request could not be processed.',
      ],
      [
        json({ errors: ['Role does not exist: X', 'bad location'] }, 400),
        'bad-request',
        'Role does not exist: X; bad location',
      ],
      [
        () =>
          new Response('<!DOCTYPE html><html><head><title>403 Forbidden</title></head></html>', {
            status: 403,
          }),
        'forbidden',
        '403 Forbidden',
      ],
      [() => new Response('boom', { status: 500 }), 'server-error', 'boom'],
      [empty(405), 'bad-response', undefined],
    ];
    for (const [answer, code, serverMessage] of cases) {
      const { api } = client(scripted(answer));
      const e = await caught(api.users.get('abc'));
      expect(e).toBeInstanceOf(HttpError);
      const h = e as HttpError;
      expect(h.code).toBe(code);
      expect(h.serverMessage).toBe(serverMessage);
      expect(h.url).toBe('http://hq.test/a/demo/api/v0.5/user/abc/');
      expect(h.message).toContain('/a/demo/api/v0.5/user/abc/');
      expect(h.message).not.toContain(KEY);
      expect(JSON.stringify(h)).not.toContain(KEY);
    }
  });

  it('an answer that is not JSON is a bad-response HttpError', async () => {
    const f = scripted(
      () =>
        new Response('<html>login page</html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    );
    const { api } = client(f);
    const e = await caught(api.cases.get('c1'));
    expect(e).toBeInstanceOf(HttpError);
    expect(e).toMatchObject({ code: 'bad-response', status: 200 });
    expect((e as Error).message).toContain('not JSON');
  });

  it('a list answer without meta/objects is a bad-response HttpError', async () => {
    const { api } = client(scripted(json({ objects: 'nope' })));
    await expect(api.forms.list()).rejects.toMatchObject({ code: 'bad-response' });
    const { api: api2 } = client(scripted(json([1, 2])));
    await expect(api2.cases.get('x')).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('a refused connection is a NetworkError without credentials', async () => {
    const f: FetchLike = async () => {
      throw new TypeError('fetch failed');
    };
    const { api } = client(f);
    const e = await caught(api.cases.list());
    expect(e).toBeInstanceOf(NetworkError);
    expect(e).toMatchObject({ code: 'network-error', retryable: true });
    expect((e as Error).message).not.toContain(KEY);
  });

  it('an aborted signal cancels the back-off wait', async () => {
    const ctrl = new AbortController();
    const f = scripted(empty(429));
    const api = new HqApiClient({
      serverUrl: 'http://hq.test',
      domain: 'demo',
      auth: { kind: 'api-key', username: 'a@b.c', key: KEY },
      fetch: f,
      signal: ctrl.signal,
      retry: { baseMs: 60_000, capMs: 60_000 },
      onRetry: () => ctrl.abort(),
    });
    await expect(api.cases.list()).rejects.toMatchObject({ name: 'NetworkError', code: 'aborted' });
  });

  it('iterate follows meta.next (relative links) until null, with a default page size', async () => {
    const f = scripted(
      json(
        page([{ id: 1 }, { id: 2 }], {
          limit: 2,
          next: '/a/demo/api/v0.5/case/?limit=2&offset=2',
          total_count: 3,
        }),
      ),
      json(
        page([{ id: 3 }], {
          limit: 2,
          offset: 2,
          previous: '/a/demo/api/v0.5/case/?limit=2&offset=0',
          total_count: 3,
        }),
      ),
    );
    const { api } = client(f);
    const ids: unknown[] = [];
    for await (const c of api.cases.iterate({ type: 'household' })) ids.push(c.id);
    expect(ids).toEqual([1, 2, 3]);
    expect(new URL(f.calls[0]?.url ?? '').searchParams.get('limit')).toBe('100');
    expect(f.calls[1]?.url).toBe('http://hq.test/a/demo/api/v0.5/case/?limit=2&offset=2');
    expect(f.calls[1]?.headers.get('authorization')).toContain('ApiKey');
  });

  it('iterate stops on an empty page or a repeated link (no endless loop)', async () => {
    const loop = json(page([{ id: 1 }], { next: '/a/demo/api/v0.5/form/?offset=0' }));
    const f = scripted(loop);
    const { api } = client(f);
    expect(await api.forms.all()).toHaveLength(2);
    expect(f.calls).toHaveLength(2);
    const f2 = scripted(json(page([], { next: '/a/demo/api/v0.5/form/?offset=20' })));
    expect(await client(f2).api.forms.all()).toEqual([]);
    expect(f2.calls).toHaveLength(1);
  });

  it('links are re-based onto the server URL (path prefix kept, never another host)', async () => {
    const f = scripted(
      json(page([{ id: 1 }], { next: 'https://evil.example/a/demo/api/v0.5/case/?offset=1' })),
      json(page([{ id: 2 }], { next: '/a/demo/api/v0.5/case/?offset=2' })),
      json(page([{ id: 3 }])),
    );
    const api = new HqApiClient({
      serverUrl: 'https://proxy.test/hq',
      domain: 'demo',
      auth: { kind: 'api-key', username: 'a@b.c', key: KEY },
      fetch: f,
    });
    expect((await api.cases.all()).map((c) => c.id)).toEqual([1, 2, 3]);
    expect(f.calls.map((c) => c.url)).toEqual([
      'https://proxy.test/hq/a/demo/api/v0.5/case/?limit=100',
      'https://proxy.test/hq/a/demo/api/v0.5/case/?offset=1',
      'https://proxy.test/hq/a/demo/api/v0.5/case/?offset=2',
    ]);
  });

  it('create reads the object back when the server answers with an id or a Location only', async () => {
    const full = { id: 'g1', name: 'Team', domain: 'demo', users: [] };
    const f = scripted(json({ id: 'g1' }, 201), json(full));
    const { api } = client(f);
    expect(await api.groups.create({ name: 'Team' })).toEqual(full);
    expect(f.calls[1]?.url).toBe('http://hq.test/a/demo/api/v0.5/group/g1/');
    const f2 = scripted(empty(201, { location: '/a/demo/api/v0.5/group/g2/' }), json({ ...full, id: 'g2' }));
    expect((await client(f2).api.groups.create({ name: 'Team' })).id).toBe('g2');
    const f3 = scripted(empty(204), json(full));
    expect(await client(f3).api.groups.edit('g1', { name: 'Team' })).toEqual(full);
    expect(f3.calls.map((c) => c.method)).toEqual(['PUT', 'GET']);
  });

  it('count asks for one object and reads total_count', async () => {
    const f = scripted(json(page([{ id: 1 }], { limit: 1, total_count: 42 })));
    const { api } = client(f);
    expect(await api.cases.count({ owner_id: 'o1', closed: false })).toBe(42);
    expect(f.calls[0]?.url).toBe('http://hq.test/a/demo/api/v0.5/case/?owner_id=o1&closed=false&limit=1');
  });
});

describe('HqApiClient extras', () => {
  it("attachment follows the form's own url, else the classic path; errors stay typed", async () => {
    const f = scripted(
      () => new Response('<data/>', { status: 200, headers: { 'content-type': 'text/xml' } }),
      empty(429),
      () => new Response('<x/>', { status: 200 }),
      () => new Response('<html><title>Page not found</title></html>', { status: 404 }),
    );
    const { api, sleeps } = client(f);
    const form = {
      id: 'f1',
      attachments: {
        'form.xml': {
          content_type: 'text/xml',
          length: 7,
          url: '/a/demo/api/form_attachment/v1/f1/form.xml',
        },
      },
    } as unknown as Parameters<typeof api.forms.xml>[0];
    expect(await api.forms.xml(form)).toBe('<data/>');
    expect(await (await api.forms.attachment('f 1', 'photo 1.jpg')).text()).toBe('<x/>');
    expect(sleeps).toHaveLength(1);
    const e = await caught(api.forms.attachment('f2'));
    expect(e).toMatchObject({ code: 'not-found', serverMessage: 'Page not found' });
    expect(f.calls.map((c) => c.url)).toEqual([
      'http://hq.test/a/demo/api/form_attachment/v1/f1/form.xml',
      'http://hq.test/a/demo/api/form/attachment/f%201/photo%201.jpg',
      'http://hq.test/a/demo/api/form/attachment/f%201/photo%201.jpg',
      'http://hq.test/a/demo/api/form/attachment/f2/form.xml',
    ]);
    expect(f.calls[0]?.headers.get('accept')).toBe('*/*');
  });

  it('withOptions derives a client with changed options (here: no retries)', async () => {
    const f = scripted(empty(429));
    const { api, sleeps } = client(f);
    await expect(api.withOptions({ retry: { maxAttempts: 1 } }).cases.list()).rejects.toMatchObject({
      code: 'rate-limited',
    });
    expect(sleeps).toEqual([]);
    expect(f.calls[0]?.headers.get('authorization')).toBe(`ApiKey admin@example.com:${KEY}`);
  });

  it('users.create sends the short username', async () => {
    const f = scripted(json({ id: 'w', username: 'qa@demo.commcarehq.org' }, 201));
    await client(f).api.users.create({ username: 'QA@Demo.CommCareHQ.org', password: 'p' });
    expect(JSON.parse(f.calls[0]?.body ?? '').username).toBe('QA');
  });

  it('a username with ":" is refused before any request', () => {
    expect(() =>
      client(scripted(json({})), { auth: { kind: 'basic', username: 'a:b', password: 'p' } }),
    ).toThrow(/cannot contain/);
  });
});

describe('error helpers', () => {
  it('redactUrl masks credential query parameters and userinfo', () => {
    expect(redactUrl('http://u:p@h.test/a/?api_key=k&username=x')).toBe(
      'http://h.test/a/?api_key=REDACTED&username=x',
    );
    expect(redactUrl('http://h.test/a/?limit=1')).toBe('http://h.test/a/?limit=1');
  });

  it('serverMessageOf reads the three HQ shapes, text and HTML titles', () => {
    expect(serverMessageOf('{"error": "not authorized"}')).toBe('not authorized');
    expect(serverMessageOf('{"error_message": "canned"}')).toBe('canned');
    expect(serverMessageOf('{"errors": ["a", "b"]}')).toBe('a; b');
    expect(serverMessageOf('plain words')).toBe('plain words');
    expect(serverMessageOf('<html><title>Not Found</title></html>')).toBe('Not Found');
    expect(serverMessageOf('')).toBeUndefined();
  });

  it('apiHttpError is retryable for 5xx and 429 only', () => {
    expect(apiHttpError('get', 'http://h/x', 503, '').retryable).toBe(true);
    expect(apiHttpError('get', 'http://h/x', 404, '').retryable).toBe(false);
  });
});
