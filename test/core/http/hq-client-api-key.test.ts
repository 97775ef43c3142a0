import { describe, expect, it } from 'vitest';
import { apiKeyAuthHeader } from '../../../src/core/http/basic-auth.ts';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import { fakeFetch } from './fake-fetch.ts';

/** `ApiKey <username>:<key>` on restore and receiver (PROTOCOL.md 2.3); SSO refuses a key. */
const base = {
  serverUrl: 'http://hq.test',
  domain: 'demo',
  username: 'worker1',
  password: '',
  apiKey: 'k:with:colons',
  deviceId: 'dev-1',
};

describe('HqClient with an API key', () => {
  it('sends ApiKey with the full username on restore and submit, never Basic', async () => {
    const f = fakeFetch((req) =>
      req.method === 'GET'
        ? new Response('<OpenRosaResponse/>', { status: 200 })
        : new Response(
            '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="submit_success">ok</message></OpenRosaResponse>',
            { status: 201 },
          ),
    );
    const c = new HqClient({ ...base, fetch: f });
    const r = await c.restore();
    if (r.status === 'ok') await r.body.cancel();
    expect(await c.submit({ xml: '<data/>' })).toMatchObject({ status: 'accepted' });
    expect(f.calls).toHaveLength(2);
    for (const call of f.calls)
      expect(call.headers.get('authorization')).toBe('ApiKey worker1@demo.commcarehq.org:k:with:colons');
    expect(apiKeyAuthHeader('a@b.c', 'k')).toBe('ApiKey a@b.c:k');
  });

  it('refuses SSO login without touching the network', async () => {
    const f = fakeFetch(() => new Response(null, { status: 500 }));
    await expect(new HqClient({ ...base, fetch: f }).login()).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    expect(f.calls).toHaveLength(0);
  });
});
