import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatedFetch } from '../../../src/cli/runner/network-sim.ts';
import { openRunnerHttp, runnerHttpKind } from '../../../src/cli/runner/runner-http.ts';

/**
 * The runner workers' HTTP client (FIELDSIM_RUNNER_HTTP): the lean node:http client by
 * default. What the outbox and the run's gate rely on: every status the server answers
 * a form with (201, 401, 412, 429, 500) reaches the caller with its body and frees its
 * socket, and a dropped connection fails as Node's fetch fails, so the gate retries an
 * idempotent request on a fresh socket and the outbox keeps a POST for its next attempt.
 */

let server: http.Server;
let base = '';
const seen: { url: string; ua: string | undefined; socket: unknown }[] = [];
let dropNext = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ url: req.url ?? '', ua: req.headers['user-agent'], socket: req.socket });
      if (dropNext > 0) {
        dropNext--;
        req.socket.destroy();
        return;
      }
      const status = Number(/\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(status, {
        'content-type': 'text/xml',
        ...(status === 429 ? { 'retry-after': '3' } : {}),
      });
      res.end(`<answer status="${status}"/>`);
    });
  });
  // Sockets of every answered request stay open (keep-alive) for the next.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('runner HTTP client (FIELDSIM_RUNNER_HTTP)', () => {
  it('defaults to lean; fetch on request; anything else is a usage error', () => {
    expect(runnerHttpKind({})).toBe('lean');
    expect(runnerHttpKind({ FIELDSIM_RUNNER_HTTP: 'lean' })).toBe('lean');
    expect(runnerHttpKind({ FIELDSIM_RUNNER_HTTP: 'fetch' })).toBe('fetch');
    expect(() => runnerHttpKind({ FIELDSIM_RUNNER_HTTP: 'curl' })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('lean: the form POST does not go through Node fetch, and every answer frees its socket', async () => {
    const client = openRunnerHttp('lean');
    try {
      const body = new TextEncoder().encode('<form/>');
      for (const status of [201, 401, 412, 429, 500, 201]) {
        const res = await client.fetch(`${base}/a/demo/receiver/status/${status}`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'text/xml' },
        });
        expect(res.status).toBe(status);
        if (status === 429) expect(res.headers.get('retry-after')).toBe('3');
        expect(await res.text()).toBe(`<answer status="${status}"/>`);
      }
      const posts = seen.slice(-6);
      // Node's fetch announces itself (user-agent "node"); node:http sends none.
      expect(posts.every((p) => p.ua === undefined)).toBe(true);
      // One keep-alive socket for the six, one after the other: none was left busy.
      expect(new Set(posts.map((p) => p.socket)).size).toBe(1);
    } finally {
      client.close();
    }
  });

  for (const kind of ['lean', 'fetch'] as const)
    it(`${kind}: a dropped connection fails like fetch; the gate retries a GET, never a POST`, async () => {
      const client = openRunnerHttp(kind);
      const gated = gatedFetch(client.fetch, 4);
      try {
        dropNext = 1;
        const before = seen.length;
        await expect(
          gated(`${base}/a/demo/receiver/status/201`, { method: 'POST', body: 'x' }),
        ).rejects.toBeInstanceOf(TypeError);
        // The POST went out once: the outbox, not the client, decides to send it again.
        expect(seen.length - before).toBe(1);
        dropNext = 1;
        const res = await gated(`${base}/a/demo/phone/restore/status/200`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('<answer status="200"/>');
        expect(seen.length - before).toBe(3);
      } finally {
        client.close();
      }
    });
});
