import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The emulator keeps idle connections longer than clients do (75 s, nginx's default), so
 * a busy load generator never reuses a socket the server has just closed: with Node's
 * 5 s, a 1,000-worker QA run lost logins and form POSTs to connection resets.
 */
describe('emulator keep-alive (QA runner under load)', () => {
  let hq: StartedEmulator;
  beforeAll(async () => {
    hq = await startEmulator();
  });
  afterAll(async () => {
    await hq.close();
  });

  it('announces a 75 s keep-alive and keeps an idle connection open past Node’s 5 s default', async () => {
    const url = new URL(`${hq.url}/a/demo/api/v0.5/sso/`);
    // One socket, reused after 6 s idle: with a 5 s server timeout the second request
    // would go out on a closed connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const once = () =>
      new Promise<{ status: number; keepAlive: string | undefined }>((resolve, reject) => {
        const req = request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, keepAlive: res.headers['keep-alive']?.toString() }),
            );
          },
        );
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end('username=worker1&password=fieldsim');
      });
    const first = await once();
    expect(first.status).toBe(200);
    expect(first.keepAlive).toBe('timeout=75');
    await new Promise((r) => setTimeout(r, 6_000));
    const second = await once();
    expect(second.status).toBe(200);
    expect(sockets.size).toBe(1);
    agent.destroy();
  });
});
