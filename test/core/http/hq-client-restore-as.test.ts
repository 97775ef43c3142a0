import { describe, expect, it } from 'vitest';
import { basicAuthHeader } from '../../../src/core/http/basic-auth.ts';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import { fakeFetch } from './fake-fetch.ts';

/** Web Apps' "login as" (PROTOCOL.md 3.2): the web user's credentials, `as=` the worker. */
describe('HqClient restoreAs', () => {
  const web = {
    serverUrl: 'http://hq.test',
    domain: 'demo',
    username: 'admin@example.com',
    password: 'secret',
    deviceId: 'dev-1',
  };

  it('expands a short worker name and keeps the web user in Basic auth, on full and incremental restores', async () => {
    const f = fakeFetch(() => new Response('x'));
    const c = new HqClient({ ...web, fetch: f, restoreAs: 'worker1' });
    await c.restore();
    await c.restore({ since: 'tok', stateHash: '' });
    for (const call of f.calls) {
      expect(new URL(call.url).searchParams.get('as')).toBe('worker1@demo.commcarehq.org');
      expect(call.headers.get('authorization')).toBe(basicAuthHeader('admin@example.com', 'secret'));
    }
  });

  it('keeps a full worker name as given and sends no `as` without the option', async () => {
    const f = fakeFetch(() => new Response('x'));
    await new HqClient({ ...web, fetch: f, restoreAs: 'worker2@demo.commcarehq.org' }).restore();
    await new HqClient({ ...web, fetch: f }).restore();
    expect(new URL(f.calls[0]!.url).searchParams.get('as')).toBe('worker2@demo.commcarehq.org');
    expect(new URL(f.calls[1]!.url).searchParams.has('as')).toBe(false);
  });
});
