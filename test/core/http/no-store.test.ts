import { describe, expect, it } from 'vitest';
import { HqApiClient } from '../../../src/core/api/hq-api-client.ts';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import type { FetchLike } from '../../../src/core/platform.ts';
import { openRosa } from './fake-fetch.ts';

/** Records each request's cache mode (as a browser's fetch would apply it). */
function recording(answer: (req: Request) => Response): FetchLike & { modes: string[] } {
  const modes: string[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    modes.push(`${req.method} ${new URL(req.url).pathname} ${req.cache}`);
    return answer(req);
  };
  return Object.assign(f, { modes });
}

describe("cache: 'no-store' on every HQ request (nothing left in the browser's HTTP cache)", () => {
  it('SSO login, restore and submit', async () => {
    const f = recording((req) => {
      if (req.url.includes('/sso/'))
        return new Response(JSON.stringify({ id: 'u1', username: 'worker1@demo.commcarehq.org' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      if (req.method === 'GET') return new Response('<OpenRosaResponse/>', { status: 200 });
      return new Response(openRosa('submit_success', 'ok'), { status: 201 });
    });
    const c = new HqClient({
      serverUrl: 'http://hq.test',
      domain: 'demo',
      username: 'worker1',
      password: 'pw',
      deviceId: 'dev',
      fetch: f,
    });
    await c.login().catch(() => undefined);
    const r = await c.restore();
    if (r.status === 'ok') await r.body.cancel();
    await c.submit({ xml: '<data/>' });
    expect(f.modes.length).toBeGreaterThanOrEqual(3);
    for (const m of f.modes) expect(m).toMatch(/ no-store$/);
  });

  it('JSON API calls', async () => {
    const f = recording(
      () =>
        new Response(
          JSON.stringify({ meta: { total_count: 0, next: null, limit: 1, offset: 0 }, objects: [] }),
          {
            status: 200,
            headers: { 'content-type': 'application/json' },
          },
        ),
    );
    const api = new HqApiClient({
      serverUrl: 'http://hq.test',
      domain: 'demo',
      auth: { kind: 'api-key', username: 'admin@example.com', key: 'k' },
      fetch: f,
    });
    await api.users.count();
    expect(f.modes).toHaveLength(1);
    expect(f.modes[0]).toMatch(/ no-store$/);
  });
});
