import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { restoreXml } from '../core/sync/fake-hq.ts';
import { cliInProcess } from '../helpers/cli-in-process.ts';

/**
 * `fieldsim restore --no-purge`, in process, against a scripted HQ on a loopback port whose
 * restore holds one case the phone keeps and two it purges: a case of another owner (not in
 * the owner set: the user and its groups) and a closed case nothing open needs
 * (PROTOCOL.md 3.10).
 */

const dir = mkdtempSync(join(tmpdir(), 'fieldsim-restore-'));
let server: Server;
let url = '';
const restoreQueries: URLSearchParams[] = [];
const PAYLOAD = restoreXml('token-1', [
  { id: 'mine', type: 'household', name: 'Mine' },
  { id: 'theirs', type: 'household', name: 'Theirs', owner: 'somebody-else' },
  { id: 'done', type: 'household', name: 'Done', closed: true },
]);

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/a/demo/phone/restore/') {
      restoreQueries.push(u.searchParams);
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(PAYLOAD);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  process.exitCode = undefined;
});

async function cli(...args: string[]): Promise<{ status: number; out: Record<string, unknown> }> {
  const r = await cliInProcess([...args, '--state', dir, '--json', '-q']);
  return { status: r.status, out: JSON.parse(r.stdout) as Record<string, unknown> };
}

async function caseIds(): Promise<string[]> {
  const r = await cli('cases', '--status', 'all');
  return (r.out.cases as { caseId: string }[]).map((c) => c.caseId).sort();
}

describe('fieldsim restore --no-purge', () => {
  it('keeps every case of the payload; a plain restore purges them again', async () => {
    const who = ['--server', url, '--domain', 'demo', '--user', 'worker1', '--api-key', 'k'];
    // An API-key login keeps a plain state only when asked (docs/cli.md, "Encryption at rest").
    const login = await cli('login', ...who, '--plain-state');
    expect(login.status).toBe(0);
    expect(login.out.restore).toMatchObject({ mode: 'full', cases: 1, purged: 2 });
    expect(await caseIds()).toEqual(['mine']);

    const kept = await cli('restore', ...who, '--no-purge');
    expect(kept.status).toBe(0);
    expect(kept.out).toMatchObject({
      restore: { mode: 'full', cases: 3, purged: 0, syncToken: 'token-1' },
      cases: { total: 3, open: 2, closed: 1 },
    });
    expect(await caseIds()).toEqual(['done', 'mine', 'theirs']);
    // A full restore: no `since`.
    expect(restoreQueries.at(-1)?.has('since')).toBe(false);

    const purged = await cli('restore', ...who);
    expect(purged.out).toMatchObject({ restore: { cases: 1, purged: 2 } });
    expect(await caseIds()).toEqual(['mine']);
  });
});
