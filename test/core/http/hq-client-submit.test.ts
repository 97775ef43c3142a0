import { describe, expect, it } from 'vitest';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import { fakeFetch, openRosa } from './fake-fetch.ts';

const base = {
  serverUrl: 'http://hq.test',
  domain: 'demo',
  username: 'worker1',
  password: 'fieldsim',
  deviceId: 'dev-1',
};

/** A fetch that never answers until its signal fires, then rejects as `rejectWith` says. */
function hanging(rejectWith: (signal: AbortSignal) => unknown) {
  return (_i: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((_ok, fail) => {
      const s = init?.signal;
      // As fetch does: an already aborted signal rejects at once.
      if (s?.aborted) fail(rejectWith(s));
      s?.addEventListener('abort', () => fail(rejectWith(s)));
    });
}

describe('HqClient.submit over the bare fetch', () => {
  it('sends the whole multipart body as one byte array', async () => {
    const seen: unknown[] = [];
    const f = fakeFetch(() => new Response(openRosa('submit_success', '   √   '), { status: 201 }));
    const spy = (input: string | URL | Request, init?: RequestInit) => {
      seen.push(init?.body);
      return f(input, init);
    };
    const out = await new HqClient({ ...base, fetch: spy }).submit({
      xml: '<data xmlns="x">é</data>',
      attachments: [{ name: 'a.jpg', blob: new Blob([new Uint8Array([9, 8])], { type: 'image/jpeg' }) }],
    });
    expect(out).toMatchObject({ status: 'accepted' });
    expect(seen[0]).toBeInstanceOf(Uint8Array);
    const fd = f.calls[0]!.body as FormData;
    expect(await (fd.get('xml_submission_file') as File).text()).toBe('<data xmlns="x">é</data>');
    expect(new Uint8Array(await (fd.get('a.jpg') as File).arrayBuffer())).toEqual(new Uint8Array([9, 8]));
  });

  it('a timeout is a retry outcome with code timeout, however the platform reports the abort', async () => {
    for (const reject of [(s: AbortSignal) => s.reason, () => new DOMException('aborted', 'AbortError')]) {
      const c = new HqClient({ ...base, fetch: hanging(reject), timeouts: { submitMs: 20 } });
      expect(await c.submit({ xml: '<a/>' })).toMatchObject({ status: 'retry', code: 'timeout' });
    }
  });

  it("the caller's abort (before or during the request) throws aborted", async () => {
    const early = new AbortController();
    early.abort();
    const c = new HqClient({ ...base, fetch: hanging((s) => s.reason) });
    await expect(c.submit({ xml: '<a/>', signal: early.signal })).rejects.toMatchObject({ code: 'aborted' });
    const late = new AbortController();
    const pending = c.submit({ xml: '<a/>', signal: late.signal });
    setTimeout(() => late.abort(), 10);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });
});
