import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseDbChecks } from '../contract/case-db.checks.ts';
import { launchChromium } from '../helpers/with-chromium.ts';
import { type ServedBundle, serveBundle } from './case-db-harness.ts';

/**
 * The case-db contract (test/contract/case-db.checks.ts) in Chromium over real IndexedDB:
 * the same check functions Node runs over fake-indexeddb, bundled and run via
 * page.evaluate, one Vitest test per check. Plus: closing the tab in the middle of a full
 * restore leaves the previous database complete.
 */

interface PageApi {
  names: string[];
  runCheck(name: string): Promise<{ ok: true } | { ok: false; error: string }>;
  loadFirst(name: string): Promise<number>;
  startSecondAndHang(name: string, minCases: number): Promise<number>;
  inspect(
    name: string,
  ): Promise<{ count: number; token: string | null; hasFirst: boolean; hasSecond: boolean }>;
}
declare global {
  var fieldsimCaseDb: PageApi;
}

let served: ServedBundle;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  served = await serveBundle(resolve(import.meta.dirname, 'case-db.entry.ts'));
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => globalThis.fieldsimCaseDb !== undefined);
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe('case-db contract: Chromium (real IndexedDB)', () => {
  it('exposes the same checks as the Node run', async () => {
    expect(await page.evaluate(() => globalThis.fieldsimCaseDb.names)).toEqual(Object.keys(caseDbChecks));
  });

  for (const name of Object.keys(caseDbChecks))
    it(name, async () => {
      const r = await page.evaluate((n) => globalThis.fieldsimCaseDb.runCheck(n), name);
      expect(r).toEqual({ ok: true });
    });
});

describe('tab closed in the middle of a full restore', () => {
  it('leaves the previous database complete and usable in a new tab', async () => {
    const tab = await context.newPage();
    await tab.goto(served.url);
    await tab.waitForFunction(() => globalThis.fieldsimCaseDb !== undefined);
    const dbName = `killed-${Date.now()}`;
    expect(await tab.evaluate((n) => globalThis.fieldsimCaseDb.loadFirst(n), dbName)).toBe(500);
    const written = await tab.evaluate((n) => globalThis.fieldsimCaseDb.startSecondAndHang(n, 600), dbName);
    expect(written).toBeGreaterThanOrEqual(600);
    await tab.close({ runBeforeUnload: false });

    const fresh = await context.newPage();
    await fresh.goto(served.url);
    await fresh.waitForFunction(() => globalThis.fieldsimCaseDb !== undefined);
    expect(await fresh.evaluate((n) => globalThis.fieldsimCaseDb.inspect(n), dbName)).toEqual({
      count: 500,
      token: 'first',
      hasFirst: true,
      hasSecond: false,
    });
    await fresh.close();
  });
});
