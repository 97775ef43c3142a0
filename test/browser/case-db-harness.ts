import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

/**
 * Bundles a browser entry (TypeScript importing src/core) with esbuild, which vite
 * installs, and serves it with a blank page from 127.0.0.1 on a free port. Used by the
 * Chromium case-db contract run and by the Chromium restore benchmark.
 */
export interface ServedBundle {
  url: string;
  close(): Promise<void>;
}

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return out.outputFiles[0]?.text ?? '';
}

/**
 * `extra` bundles more entries, each served at its own path (e.g. `/restore-worker.js`
 * for a Web Worker the page starts).
 */
export async function serveBundle(entry: string, extra: Record<string, string> = {}): Promise<ServedBundle> {
  const js = await bundle(entry);
  const more = new Map<string, string>();
  for (const [path, file] of Object.entries(extra)) more.set(path, await bundle(file));
  const html =
    '<!doctype html><meta charset="utf-8"><title>fieldsim case-db</title><script type="module" src="/bundle.js"></script>';
  const server: Server = createServer((req, res) => {
    const script = req.url === '/bundle.js' ? js : more.get(req.url ?? '');
    if (script !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(script);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
