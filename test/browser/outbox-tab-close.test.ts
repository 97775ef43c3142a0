import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { launchChromium } from '../helpers/with-chromium.ts';

/**
 * Issue 4 in Chromium: close the tab while a submission is in flight — the server has
 * stored the form but holds its answer — then reopen: the form found `sending` goes back
 * to `queued`, is resent with the same bytes, the server recognises the duplicate, and it
 * is delivered exactly once.
 *
 * The page is served from a test origin that also proxies `/a/...` to the emulator (HQ
 * sends no CORS headers, so the PWA is same-origin with HQ too); the proxy can hold
 * receiver answers.
 */

let hq: StartedEmulator;
let browser: Browser;
let server: Server;
let origin: string;
let holdReceiver = false;
const held: ServerResponse[] = [];

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  hq = await startEmulator();
  const out = await build({
    entryPoints: [resolve(import.meta.dirname, 'outbox.entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const js = out.outputFiles[0]?.text ?? '';
  server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/a/')) {
      const body = req.method === 'GET' || req.method === 'HEAD' ? null : new Uint8Array(await readBody(req));
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers.set(k, v);
      const upstream = await fetch(`${hq.url}${url}`, { method: req.method ?? 'GET', headers, body });
      const buf = Buffer.from(await upstream.arrayBuffer());
      if (holdReceiver && url.includes('/receiver/')) {
        // The server stored the form; its answer never reaches the tab.
        held.push(res);
        return;
      }
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
      res.end(buf);
      return;
    }
    if (url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(js);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      '<!doctype html><meta charset="utf-8"><title>outbox</title><script type="module" src="/bundle.js"></script>',
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  for (const r of held) r.destroy();
  await browser?.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await hq.close();
});

function serverForms(id: string): { state: string }[] {
  return hq.app.db.prepare('SELECT state FROM forms WHERE form_id = ? OR orig_id = ?').all(id, id) as {
    state: string;
  }[];
}

describe('outbox in Chromium', () => {
  it('tab closed while the server holds its answer: resent on reopen, delivered exactly once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => globalThis.fieldsimOutbox !== undefined);
    holdReceiver = true;
    const [id] = await page.evaluate(() => globalThis.fieldsimOutbox.loginAndSave(1));
    expect(id).toBeDefined();
    // Wait until the emulator has stored the form (the answer is being held).
    for (let i = 0; i < 100 && serverForms(id!).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(serverForms(id!)).toEqual([{ state: 'normal' }]);
    expect(await page.evaluate(() => globalThis.fieldsimOutbox.states())).toEqual(['sending']);
    await page.close();

    holdReceiver = false;
    const page2 = await context.newPage();
    await page2.goto(origin);
    await page2.waitForFunction(() => globalThis.fieldsimOutbox !== undefined);
    const items = await page2.evaluate(() => globalThis.fieldsimOutbox.reopen());
    expect(items).toEqual([{ instanceId: id, state: 'sent', attempts: 2 }]);
    // One form, once; the resend is HQ's duplicate record, not a second form or an edit.
    const rows = hq.app.db
      .prepare("SELECT state FROM forms WHERE (form_id = ? OR orig_id = ?) AND state = 'normal'")
      .all(id, id);
    expect(rows).toHaveLength(1);
    expect(hq.app.db.prepare("SELECT count(*) AS n FROM forms WHERE state = 'deprecated'").get()).toEqual({
      n: 0,
    });
    await context.close();
  });

  it('offline: 20 forms saved and waiting; back online, they drain in order without a reload', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => globalThis.fieldsimOutbox !== undefined);
    await page.evaluate(() => globalThis.fieldsimOutbox.loginAndSave(0));
    await context.setOffline(true);
    const ids = await page.evaluate(() => globalThis.fieldsimOutbox.saveMany(20));
    expect(await page.evaluate(() => globalThis.fieldsimOutbox.states())).toEqual(Array(20).fill('queued'));
    const known = hq.app.db.prepare(
      'SELECT count(*) AS n FROM forms WHERE form_id IN (' + ids.map(() => '?').join(',') + ')',
    );
    expect(known.get(...ids)).toEqual({ n: 0 });
    await context.setOffline(false);
    expect(await page.evaluate(() => globalThis.fieldsimOutbox.waitAllSent(20_000))).toEqual(
      Array(20).fill('sent'),
    );
    const order = hq.app.db
      .prepare(
        `SELECT form_id FROM forms WHERE state = 'normal' AND form_id IN (${ids.map(() => '?').join(',')}) ORDER BY seq`,
      )
      .all(...ids) as { form_id: string }[];
    expect(order.map((r) => r.form_id)).toEqual(ids);
    await context.close();
  });
});
