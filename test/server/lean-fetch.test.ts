import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanFetch } from '../../src/node-http/lean-fetch.ts';

let server: http.Server;
let base = '';
const seen: { method: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/empty') {
        res.writeHead(204).end();
        return;
      }
      if (req.url === '/hang') return; // never answers
      if (req.url === '/cut') {
        // Headers and part of the announced body, then the connection drops.
        res.writeHead(201, { 'Content-Length': '100' });
        res.write('<partial');
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('x'.repeat(200_000));
        return;
      }
      if (req.url === '/stall') {
        res.writeHead(201, { 'Content-Length': '10' });
        res.write('<a');
        return; // the rest never comes
      }
      res.writeHead(201, { 'Content-Type': 'text/html; charset=utf-8', 'X-CommCareHQ-FormID': 'f1' });
      res.end(`<ok>${Buffer.concat(chunks).byteLength}</ok>`);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('leanFetch: the Node keep-alive fetch of the outbox drain', () => {
  it('posts a byte body with its headers and returns status, headers and body as fetch does', async () => {
    const f = leanFetch();
    try {
      const body = new TextEncoder().encode('--b\r\nform\r\n--b--\r\n');
      const res = await f(`${base}/a/demo/receiver/`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'multipart/form-data; boundary=b', 'x-openrosa-version': '3.0' },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-commcarehq-formid')).toBe('f1');
      expect(await res.text()).toBe(`<ok>${body.byteLength}</ok>`);
      const got = seen.at(-1)!;
      expect(got.method).toBe('POST');
      expect(got.headers['content-type']).toBe('multipart/form-data; boundary=b');
      expect(got.headers['content-length']).toBe(String(body.byteLength));
      expect(got.body).toBe('--b\r\nform\r\n--b--\r\n');
      // A second request reuses the kept-alive socket.
      const again = await f(`${base}/a/demo/receiver/`, { method: 'POST', body: 'x' });
      expect(await again.text()).toBe('<ok>1</ok>');
      expect(seen.at(-1)!.headers.connection).toBe('keep-alive');
      const empty = await f(`${base}/empty`, { method: 'POST', body: '' });
      expect(empty.status).toBe(204);
      expect(await empty.text()).toBe('');
    } finally {
      f.close();
    }
  });

  it('fails as fetch does: TypeError without an answer, the signal reason on abort', async () => {
    const f = leanFetch();
    try {
      const closed = http.createServer();
      await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((ok) => closed.close(() => ok()));
      await expect(f(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' })).rejects.toBeInstanceOf(
        TypeError,
      );
      const ac = new AbortController();
      const pending = f(`${base}/hang`, { method: 'POST', body: 'x', signal: ac.signal });
      const reason = new DOMException('The request timed out', 'TimeoutError');
      setTimeout(() => ac.abort(reason), 20);
      await expect(pending).rejects.toBe(reason);
    } finally {
      f.close();
    }
  });

  it('reads small answers whole, streams large ones, and keeps the status of an answer cut off', async () => {
    const f = leanFetch();
    try {
      const big = await f(`${base}/big`, { method: 'POST', body: 'x' });
      expect(big.status).toBe(200);
      expect((await big.text()).length).toBe(200_000);
      const cut = await f(`${base}/cut`, { method: 'POST', body: 'x' });
      expect(cut.status).toBe(201);
      await expect(cut.text()).rejects.toBeInstanceOf(TypeError);
      // The pool still serves after a dropped connection.
      const again = await f(`${base}/a/demo/receiver/`, { method: 'POST', body: 'xy' });
      expect(await again.text()).toBe('<ok>2</ok>');
      // A signal fired while the body is awaited: the status is kept, the body read fails.
      const ac = new AbortController();
      const reason = new DOMException('The request timed out', 'TimeoutError');
      setTimeout(() => ac.abort(reason), 30);
      const stalled = await f(`${base}/stall`, { method: 'POST', body: 'x', signal: ac.signal });
      expect(stalled.status).toBe(201);
      await expect(stalled.text()).rejects.toBe(reason);
    } finally {
      f.close();
    }
  });

  it("hands a Request (ky's calls) to Node's fetch", async () => {
    const f = leanFetch();
    try {
      const res = await f(new Request(`${base}/r`, { method: 'POST', body: 'abc' }));
      expect(res.status).toBe(201);
      expect(await res.text()).toBe('<ok>3</ok>');
    } finally {
      f.close();
    }
  });
});
