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
    server.once('error', rejectStart);
  });
}
