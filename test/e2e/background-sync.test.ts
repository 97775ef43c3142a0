import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../src/server/faults.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 4: the queue is also tried through Background Sync where the browser has it.
 * A form the server could not take (500) waits with its backoff; the page keeps the
 * `fieldsim-outbox` sync tag registered; when Chromium fires `sync` (dispatched here through
 * the DevTools protocol, as the browser does when connectivity returns) the service worker
 * relays it to the page, which sends at once instead of waiting for its 30 s timer.
 */
describe('Background Sync and persistent storage (issue 4)', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;

  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });
  beforeAll(async () => {
    // Count the app's calls to navigator.storage.persist() (issue 4).
    await page.addInitScript(() => {
      const storage = navigator.storage;
      const original = storage.persist.bind(storage);
      const w = window as unknown as { persistCalls: number };
      w.persistCalls = 0;
      storage.persist = () => {
        w.persistCalls++;
        return original();
      };
    });
  });

  it('registers the outbox sync tag while forms wait, and a sync event sends them', async () => {
    const cdp = await context.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');

    const shell = new AppShell(page);
    const login = new LoginPage(page);
    await login.open(emu.url);
    await login.logIn('worker1', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    expect(
      await page.evaluate(() => (window as unknown as { persistCalls: number }).persistCalls),
    ).toBeGreaterThan(0);

    // 1. A form the server failed (500) waits with its backoff; a `sync` event relayed by
    // the service worker sends it at once, well inside the app's 30 s retry timer.
    emu.app.setFaults({ ...NO_FAULTS, error500: 1 });
    await shell.go('Forms');
    const forms = new FormsPage(page);
    await forms.registerHousehold('Background Sync household', 'Kisumu', '3');
    await shell.waitForUnsent(1);
    await page.waitForTimeout(500);
    expect(await shell.unsentCount()).toBe(1);
    emu.app.setFaults({ ...NO_FAULTS });
    const origin = new URL(emu.url).origin;
    const reg = registrations.find((r) => r.scopeURL.startsWith(origin));
    expect(reg).toBeDefined();
    await cdp.send('ServiceWorker.dispatchSyncEvent', {
      origin,
      registrationId: reg!.registrationId,
      tag: 'fieldsim-outbox',
      lastChance: false,
    });
    await shell.waitForUnsent(0, 10_000);
    const stored = (name: string) =>
      (
        emu.app.db
          .prepare("SELECT COUNT(*) AS n FROM cases WHERE domain = 'demo' AND name = ?")
          .get(name) as {
          n: number;
        }
      ).n;
    expect(stored('Background Sync household')).toBe(1);

    // 2. Saved while offline: the tag is registered for the browser to fire when the
    // network returns (Chromium holds it while offline).
    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: 'Offline' }).waitFor();
    await shell.go('Forms');
    await forms.registerHousehold('Offline sync household', 'Kisumu', '2');
    await shell.waitForUnsent(1);
    const tags = () =>
      page.evaluate(async () => {
        const r = (await navigator.serviceWorker.ready) as ServiceWorkerRegistration & {
          sync?: { getTags(): Promise<string[]> };
        };
        return (await r.sync?.getTags()) ?? null;
      });
    await expect.poll(tags, { timeout: 10_000 }).toContain('fieldsim-outbox');
    await context.setOffline(false);
    await shell.waitForUnsent(0, 30_000);
    expect(stored('Offline sync household')).toBe(1);
  });
});
