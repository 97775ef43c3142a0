import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliFetch } from '../../src/cli/cli-fetch.ts';
import { platformFor } from '../../src/cli/worker-session.ts';

const REPO = resolve(import.meta.dirname, '../..');

describe("the CLI's HTTP client", () => {
  it('is the lean node:http fetch, one per process, in every worker platform', () => {
    const deps = {} as Parameters<typeof platformFor>[0];
    const a = platformFor(deps);
    const b = platformFor(deps, { encrypt: true });
    expect(a.fetch).toBe(cliFetch());
    expect(b.fetch).toBe(a.fetch);
    expect(b.encryptAtRest).toBe(true);
  });

  it('sends a form body and reads the answer over keep-alive; idle sockets do not keep the process alive', async () => {
    let posts = 0;
    const server = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => {
        posts++;
        res.writeHead(201, { 'content-type': 'text/xml' });
        res.end(`<OpenRosaResponse><message>${body.length}</message></OpenRosaResponse>`);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a/demo/receiver/`;
    // Two sends through cliFetch, then nothing: the process must end by itself while the
    // server still holds the keep-alive connection open (120 s).
    const script = `
      const { cliFetch } = await import(${JSON.stringify(resolve(REPO, 'src/cli/cli-fetch.ts'))});
      for (const body of ['<a/>', '<bb/>']) {
        const r = await cliFetch()(${JSON.stringify(url)}, { method: 'POST', body });
        console.log(r.status, await r.text());
      }`;
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const code = await new Promise<number | null>((ok) => {
      const timer = setTimeout(() => {
        child.kill();
        ok(-1);
      }, 60_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        ok(c);
      });
    });
    const connections = await new Promise<number>((ok) => server.getConnections((_, n) => ok(n)));
    server.closeAllConnections();
    server.close();
    expect(code).toBe(0);
    expect(out).toBe(
      '201 <OpenRosaResponse><message>4</message></OpenRosaResponse>\n201 <OpenRosaResponse><message>5</message></OpenRosaResponse>\n',
    );
    expect(posts).toBe(2);
    // The keep-alive connection ended with the client process.
    expect(connections).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
