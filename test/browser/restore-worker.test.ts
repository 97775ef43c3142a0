import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/with-chromium.ts';
import { type ServedBundle, serveBundle } from './case-db-harness.ts';

/**
 * The PWA's restore Web Workers (issue 15) in Chromium over real IndexedDB, encryption on:
 * the parse worker and the restore worker together (and the restore worker alone) store
 * the same cases and result as the ingest on the page for the same payload, progress
 * posted back, sealed rows on disk; a dropped connection, malformed XML, a cancel and a
 * logout mid-way each end with a typed error, no worker left running and the old
 * generation live; a worker that cannot start falls back (to the restore worker alone,
 * or to the page).
 */

interface Result {
  cases: number;
  purged: number;
  syncToken: string | null;
  fixtures: string[];
}
interface Failure {
  code: string | null;
  name: string | null;
  casesAfter: number;
  tokenAfter: string | null;
  workers: number;
}
interface PageApi {
  compare(
    n: number,
    single?: boolean,
  ): Promise<{
    same: boolean;
    cases: number;
    page: Result;
    worker: Result;
    phases: string[];
    sealed: { pages: number; plain: number; leaked: boolean };
    catalog: { source: string | undefined; sameAsReload: boolean };
  }>;
  failing(how: 'dropped' | 'abort' | 'logout' | 'malformed'): Promise<Failure>;
  fallback(n: number, parser?: boolean): Promise<{ cases: number; workers: number }>;
}
declare global {
  var fieldsimRestoreWorker: PageApi;
}

let served: ServedBundle;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  served = await serveBundle(resolve(import.meta.dirname, 'restore-worker.entry.ts'), {
    '/restore-worker.js': resolve(import.meta.dirname, '../../src/app/restore-worker/restore-worker.ts'),
    '/restore-parse-worker.js': resolve(
      import.meta.dirname,
      '../../src/app/restore-worker/restore-parse-worker.ts',
    ),
  });
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => globalThis.fieldsimRestoreWorker !== undefined);
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe('restore in a Web Worker (Chromium, encrypted)', () => {
  it('stores the same cases and returns the same result as the ingest on the page', async () => {
    const r = await page.evaluate(() => globalThis.fieldsimRestoreWorker.compare(6000));
    expect(r.same).toBe(true);
    // 6000 payload cases and the 30 carried-over blocks (412 recovery's unsent forms).
    expect(r.cases).toBe(6030);
    expect(r.worker).toEqual(r.page);
    expect(r.phases).toEqual(['downloading', 'purging', 'done']);
    expect(r.sealed.pages).toBeGreaterThan(300);
    expect(r.sealed).toMatchObject({ plain: 0, leaked: false });
    // The page adopted the worker's catalog (no reload), and it equals one read back.
    expect(r.catalog).toEqual({ source: 'worker', sameAsReload: true });
  });

  it('the restore worker alone (no parse worker) stores the same cases too', async () => {
    const r = await page.evaluate(() => globalThis.fieldsimRestoreWorker.compare(3000, true));
    expect(r.same).toBe(true);
    expect(r.cases).toBe(3030);
    expect(r.worker).toEqual(r.page);
    expect(r.sealed).toMatchObject({ plain: 0, leaked: false });
    expect(r.catalog).toEqual({ source: 'worker', sameAsReload: true });
  });

  it('malformed XML mid-way: typed XmlError from the parse worker, old generation intact', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimRestoreWorker.failing('malformed'))).toEqual({
      code: 'xml-malformed',
      name: 'XmlError',
      casesAfter: 200,
      tokenAfter: 'bench-token',
      workers: 0,
    });
  });

  it('a dropped connection mid-way: typed network error, old generation intact, worker gone', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimRestoreWorker.failing('dropped'))).toEqual({
      code: 'network-error',
      name: 'NetworkError',
      casesAfter: 200,
      tokenAfter: 'bench-token',
      workers: 0,
    });
  });

  it('cancel mid-way terminates the worker and keeps the old generation', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimRestoreWorker.failing('abort'))).toMatchObject({
      code: 'aborted',
      casesAfter: 200,
      tokenAfter: 'bench-token',
      workers: 0,
    });
  });

  it('logout mid-way (stopRestoreWorkers) ends the restore with aborted and keeps the old generation', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimRestoreWorker.failing('logout'))).toMatchObject({
      code: 'aborted',
      casesAfter: 200,
      tokenAfter: 'bench-token',
      workers: 0,
    });
  });

  it('the restore worker parses itself when the parse worker cannot start', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimRestoreWorker.fallback(500, true))).toEqual({
      cases: 500,
      workers: 0,
    });
  });

  it('falls back to the page when the worker script cannot start', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimRestoreWorker.fallback(500))).toEqual({
      cases: 500,
      workers: 0,
    });
  });
});
