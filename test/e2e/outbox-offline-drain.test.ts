import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GENERIC_XMLNS } from '../../src/core/protocol/submission/generic-forms.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { OutboxPage } from '../helpers/page-objects/outbox-page.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 4 in Chromium: go offline, save 20 forms, reload offline, come back online, and
 * the 20 drain in the order they were saved, without another reload (Enketo's queue only
 * drained after a reload).
 */

const N = 20;
const name = (i: number) => `Batch household ${String(i).padStart(2, '0')}`;

describe('offline outbox drain (issue 4)', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;

  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });

  it('20 forms saved offline survive an offline reload and drain in order when back online', async () => {
    const shell = new AppShell(page);
    const forms = new FormsPage(page);
    const login = new LoginPage(page);
    await login.open(emu.url);
    await login.logIn('worker1', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });

    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: 'Offline' }).waitFor();
    for (let i = 1; i <= N; i++) {
      await shell.go('Forms');
      await forms.registerHousehold(name(i), 'Kisumu', String(i));
      await shell.waitForUnsent(i);
    }

    await shell.go('Home');
    await page.reload();
    // Offline: the password opening the encrypted data is checked on the device.
    await new LockScreen(page).unlock('fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await shell.waitForUnsent(N);
    await shell.go('Outbox');
    const waiting = await new OutboxPage(page).rows();
    expect(waiting).toHaveLength(N);
    expect(waiting.every((r) => r.state === 'Waiting to send')).toBe(true);
    expect(waiting.map((r) => r.title.match(/Batch household \d\d/)?.[0])).toEqual(
      Array.from({ length: N }, (_, k) => name(k + 1)),
    );
    // Nothing reached the server while offline.
    const countForms = () =>
      (
        emu.app.db
          .prepare("SELECT COUNT(*) AS n FROM forms WHERE domain = 'demo' AND xmlns = ?")
          .get(GENERIC_XMLNS.register) as { n: number }
      ).n;
    expect(countForms()).toBe(0);

    const before = await page.evaluate(() => performance.timeOrigin);
    await context.setOffline(false);
    await shell.waitForUnsent(0, 60_000);
    // Same document: the drain came from the `online` event, not from a reload.
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(before);

    const received = emu.app.db
      .prepare("SELECT xml FROM forms WHERE domain = 'demo' AND xmlns = ? ORDER BY seq")
      .all(GENERIC_XMLNS.register) as { xml: string }[];
    expect(received.map((f) => f.xml.match(/Batch household \d\d/)?.[0])).toEqual(
      Array.from({ length: N }, (_, k) => name(k + 1)),
    );
  });
});
