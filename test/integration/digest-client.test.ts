import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HqApiClient } from '../../src/core/api/hq-api-client.ts';
import { HttpError } from '../../src/core/errors/http-error.ts';
import { HqClient } from '../../src/core/http/hq-client.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

/** Records the Authorization schemes the client sent. */
function recording(schemes: string[], transform?: (h: Headers) => void): typeof fetch {
  return (input, init) => {
    // ky passes a Request; the receiver's hot path passes a URL and init.
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    transform?.(headers);
    schemes.push((headers.get('authorization') ?? 'none').split(' ')[0]!);
    return fetch(new Request(request, { headers }));
  };
}

const FORM = (id: string) =>
  `<data xmlns="http://example.org/digest-client"><meta xmlns="http://openrosa.org/jr/xforms"><instanceID>${id}</instanceID></meta></data>`;

describe('HqClient and HqApiClient over HTTP Digest', () => {
  it("auth: 'digest' restores and submits without ever sending the password", async () => {
    const sent: string[] = [];
    const client = new HqClient({
      serverUrl: emu.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      deviceId: 'digest-device',
      auth: 'digest',
      fetch: recording(sent),
    });
    const r = await client.restore();
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect(await new Response(r.body).text()).toContain('<restore_id>');
    const out = await client.submit({ xml: FORM('digest-client-1') });
    expect(out.status).toBe('accepted');
    const out2 = await client.submit({ xml: FORM('digest-client-2') });
    expect(out2.status).toBe('accepted');
    // One probe and one challenge round at first; then the nonce is reused.
    expect(sent).toEqual(['Digest', 'Digest', 'Digest', 'Digest']);
    expect(sent).not.toContain('Basic');
  });

  it('a wrong password is a 401 auth error after one Digest round, not a loop', async () => {
    const sent: string[] = [];
    const client = new HqClient({
      serverUrl: emu.url,
      domain: 'demo',
      username: 'worker1',
      password: 'wrong',
      deviceId: 'digest-device',
      auth: 'digest',
      fetch: recording(sent),
    });
    const err = await client.restore().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(401);
    expect(sent.length).toBe(2);
  });

  it('in the default mode a Digest 401 is answered automatically', async () => {
    const sent: string[] = [];
    // A server that ignores Basic and challenges with Digest (a J2ME-era HQ endpoint).
    const client = new HqClient({
      serverUrl: emu.url,
      domain: 'demo',
      username: 'worker2',
      password: 'fieldsim',
      deviceId: 'auto-device',
      fetch: recording(sent, (h) => {
        if (h.get('authorization')?.startsWith('Basic')) h.delete('authorization');
        h.set('user-agent', 'Nokia MIDP-2.0');
      }),
    });
    const r = await client.restore();
    expect(r.status).toBe('ok');
    expect(sent).toEqual(['none', 'Digest']);
  });

  it("HqApiClient with kind 'digest' lists users; a web user's wrong password is auth-invalid", async () => {
    const api = new HqApiClient({
      serverUrl: emu.url,
      domain: 'demo',
      auth: { kind: 'digest', username: 'admin@example.com', password: 'fieldsim' },
    });
    const page = (await api.raw('get', 'user/')) as { objects: unknown[] };
    expect(page.objects.length).toBeGreaterThan(0);
    const bad = new HqApiClient({
      serverUrl: emu.url,
      domain: 'demo',
      auth: { kind: 'digest', username: 'admin@example.com', password: 'nope' },
    });
    const err = await bad.raw('get', 'user/').catch((e: unknown) => e);
    expect((err as HttpError).code).toBe('auth-invalid');
  });
});
