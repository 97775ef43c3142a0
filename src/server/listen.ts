import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Emulator } from './emulator.ts';

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves an emulator over HTTP; `port: 0` picks a free port. Binds 127.0.0.1 by default. */
export function listen(
  emulator: Emulator,
  opts: { port?: number; host?: string } = {},
): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  return new Promise((resolveStart, rejectStart) => {
    const server = serve(
      { fetch: emulator.app.fetch, port: opts.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        const shownHost = host.includes(':') ? `[${host}]` : host;
        resolveStart({
          url: `http://${shownHost}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Keep-alive sockets would hold close() open; end them.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
    // Idle keep-alive connections are kept 75 s, as nginx in front of HQ does
    // (keepalive_timeout's default), not Node's 5 s: the client must be the side that
    // closes an idle connection. With a 5 s server timeout, a busy client (a thousand QA
    // runner workers in one event loop) reuses a socket the server has just closed and
    // the request fails with a reset (UND_ERR_SOCKET / ECONNRESET), POSTs included.
    const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
    http.keepAliveTimeout = 75_000;
    // Above keepAliveTimeout, so the header timer never ends a kept-alive socket first.
    http.headersTimeout = 76_000;
    server.once('error', rejectStart);
  });
}
