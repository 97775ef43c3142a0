/**
 * Child process for restore-body-gc.test.ts (run with `--expose-gc`): a local server
 * answers a restore with a body sent in two parts; the client gets the answer, drops
 * every reference but the body stream, forces garbage collection, then reads the body.
 * Prints one JSON line: the bytes read through a bare `fetch` (the control: undici
 * cancels the body of a collected Response) and through `HqClient.restore()`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HqClient } from '../../../../src/core/http/hq-client.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const head = '<OpenRosaResponse xmlns="http://openrosa.org/http/response">';
const tail = `${'<message nature="ota_restore_success">ok</message>'.repeat(2000)}</OpenRosaResponse>`;
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.write(head);
  // The rest comes later, so the body is still streaming while the client collects.
  setTimeout(() => res.end(tail), 50);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  const reader = body.getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) return n;
    n += r.value.byteLength;
  }
}

// The Response is created inside the helper and not returned: only the stream survives.
async function bareBody(): Promise<ReadableStream<Uint8Array>> {
  const res = await fetch(`${url}/bare`);
  if (!res.body) throw new Error('no body');
  return res.body;
}

async function clientBody(): Promise<ReadableStream<Uint8Array>> {
  const client = new HqClient({
    serverUrl: url,
    domain: 'demo',
    username: 'worker1',
    password: 'p',
    deviceId: 'd',
  });
  const r = await client.restore();
  if (r.status !== 'ok') throw new Error(`status ${r.status}`);
  return r.body;
}

const bare = await bareBody();
const viaClient = await clientBody();
await collect();
const out = {
  expected: Buffer.byteLength(head) + Buffer.byteLength(tail),
  bare: await readAll(bare).catch(() => -1),
  client: await readAll(viaClient).catch(() => -1),
};
server.close();
console.log(JSON.stringify(out));
