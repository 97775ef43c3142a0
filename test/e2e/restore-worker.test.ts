import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * The PWA restores in a Web Worker (issue 15): login and restore through the worker
 * shows progress and gives the same cases as the page's own ingest (a context without
 * Worker); a connection dropped mid-restore keeps the old generation and shows the error;
 * logging out mid-restore stops the worker. A small proxy in front of the emulator cuts
 * or stalls the restore body, and answers the incremental sync with 412 so the Sync button
 * runs a full restore.
 */

const FACTOR = 200; // worker1's 25 cases x 200 = 5,000 cases in the restore
const CUT_AT = 1_000_000; // bytes of the full restore before the fault

type Mode = 'pass' | 'drop' | 'stall';
let mode: Mode = 'pass';
const held: IncomingMessage[] = [];

function startProxy(upstream: string): Promise<Server> {
  const up = new URL(upstream);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', upstream);
    const restore = url.pathname.includes('/phone/restore/');
    if (restore && mode !== 'pass' && url.searchParams.has('since')) {
      res.writeHead(412, { 'content-type': 'text/xml' });
      res.end(
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="error">Invalid sync token</message></OpenRosaResponse>',
      );
      return;
    }
    const fwd = request(
      {
        host: up.hostname,
        port: up.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: up.host },
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (!restore || mode === 'pass' || ur.statusCode !== 200) {
          ur.pipe(res);
          return;
        }
        let sent = 0;
        ur.on('data', (chunk: Buffer) => {
          if (sent >= CUT_AT) {
            if (mode === 'drop') {
              res.socket?.destroy();
              ur.destroy();
            } else {
              ur.pause();
              held.push(ur);
            }
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        ur.on('end', () => res.end());
      },
    );
    req.pipe(fwd);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function caseCount(page: Page): Promise<number> {
  await page.evaluate(() => {
    location.hash = '#/cases';
  });
  return new CaseListPage(page).count();
}

async function firstNames(page: Page): Promise<string[]> {
  return (await new CaseListPage(page).visibleRows()).slice(0, 20).map((r) => r.name);
}

function restoreWorkers(page: Page): Worker[] {
  const seen: Worker[] = [];
  page.on('worker', (w) => {
    if (w.url().includes('restore-worker')) seen.push(w);
  });
  return seen;
}

describe('restore in a Web Worker (PWA)', () => {
  let emu: Emu;
  let page: Page;
  let browser: Browser;
  let proxy: Server;
  let base: string;
  let workers: Worker[];
  let restored: number;
  let names: string[];

  useApp({}, (app) => {
    ({ emu, page, browser } = app);
  });
  beforeAll(async () => {
    emu.app.db.prepare('UPDATE users SET loadtest_factor = ? WHERE username LIKE ?').run(FACTOR, 'worker1@%');
    proxy = await startProxy(emu.url);
    base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
    workers = restoreWorkers(page);
  });
  afterAll(async () => {
    for (const r of held) r.destroy();
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('logs in through the restore worker, with progress, and the worker ends after the switch', async () => {
    const login = new LoginPage(page);
    await login.open(base);
    await login.logIn('worker1', 'fieldsim');
    await page.getByRole('progressbar', { name: 'Restoring your cases' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor({ timeout: 60_000 });
    expect(workers).toHaveLength(1);
    restored = await caseCount(page);
    expect(restored).toBeGreaterThanOrEqual(25 * FACTOR * 0.9);
    names = await firstNames(page);
    expect(names.length).toBeGreaterThan(5);
    expect(page.workers().filter((w) => w.url().includes('restore-worker'))).toHaveLength(0);
  });

  it('gives the same cases as the ingest on the page (a context without Worker)', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'Worker');
    });
    const other = await ctx.newPage();
    const seen = restoreWorkers(other);
    await new LoginPage(other).logInToHome(base, 'worker1', 'fieldsim');
    expect(seen).toHaveLength(0);
    expect(await caseCount(other)).toBe(restored);
    expect(await firstNames(other)).toEqual(names);
    await ctx.close();
  });

  it('a connection dropped mid-restore keeps the old generation and shows the error', async () => {
    mode = 'drop';
    await page.getByRole('button', { name: 'Sync' }).click();
    // The parser's typed NetworkError, raised in the worker and carried to the page.
    await page.getByText(/Sync failed: The restore download failed/).waitFor({ timeout: 60_000 });
    expect(workers).toHaveLength(2);
    expect(await caseCount(page)).toBe(restored);
    expect(await firstNames(page)).toEqual(names);
  });

  it('logging out mid-restore stops the worker; the old generation is there at the next login', async () => {
    mode = 'stall';
    await page.getByRole('button', { name: 'Sync' }).click();
    await page.getByRole('progressbar', { name: 'Sync progress' }).waitFor();
    await expect.poll(() => workers.length, { timeout: 30_000 }).toBe(3);
    const worker = workers[2] as Worker;
    const closed = new Promise<void>((resolve) => worker.on('close', () => resolve()));
    // Some progress from the worker first, so the restore is really under way.
    await page.getByText(/[1-9]\d* cases written/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Log out' }).click();
    await closed;
    await page.getByLabel('Username').waitFor();
    mode = 'pass';
    await new LoginPage(page).logInToHome(base, 'worker1', 'fieldsim');
    expect(await caseCount(page)).toBe(restored);
    expect(await firstNames(page)).toEqual(names);
  });
});
