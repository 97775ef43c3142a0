import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { OutboxPage } from '../helpers/page-objects/outbox-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, Home and Diagnostics: counts and the "sync strongly needed" warning, the Sync
 * button's progress through the server's 202 "preparing" answers and its cancel, and the
 * network simulator that holds the app's own requests back without touching the device.
 */

describe('home, sync and the network simulator', () => {
  let emu: Emu;
  let page: Page;
  let shell: AppShell;

  useApp({ login: 'worker1' }, (app) => {
    ({ emu, page } = app);
  });
  beforeAll(async () => {
    shell = new AppShell(page);
  });

  const stat = (label: string) =>
    page
      .locator('.stat')
      .filter({ has: page.locator('.k', { hasText: label }) })
      .locator('.v');
  /** A Home figure once it has loaded (it shows '…' while the counts are read). */
  const statValue = async (label: string): Promise<string> => {
    for (let i = 0; i < 200; i++) {
      const t = (await stat(label).textContent()) ?? '';
      if (t !== '…') return t;
      await page.waitForTimeout(50);
    }
    throw new Error(`Home figure "${label}" never loaded`);
  };

  it('shows what is on the device; simulated offline holds forms back, and more than 5 warns', async () => {
    expect(Number(await statValue('Cases on this device'))).toBeGreaterThan(0);
    expect(await statValue('Waiting to send')).toBe('0');
    expect(await statValue('Last sync')).not.toBe('never');
    expect(await page.getByText('Sync strongly needed').count()).toBe(0);
    await page.getByText(/Storage used:/).waitFor();
    await shoot(page, 'home');

    await shell.go('Diagnostics');
    await page.getByLabel('Simulate offline').check();
    await page.getByRole('status').filter({ hasText: 'Offline (simulated)' }).waitFor();
    await shell.go('Forms');
    const forms = new FormsPage(page);
    await forms.registerHousehold('Simulated 1', 'A', '1');
    for (let i = 2; i <= 6; i++) {
      await page.getByLabel('Household name').fill(`Simulated ${i}`);
      await page.getByRole('button', { name: 'Save form' }).click();
      await shell.waitForUnsent(i);
    }
    // The browser is online all along: only the app's own requests were held back.
    expect(await page.evaluate(() => navigator.onLine)).toBe(true);
    await shell.go('Home');
    await page.getByText('Sync strongly needed.').waitFor();
    expect(await statValue('Waiting to send')).toBe('6');
    await shoot(page, 'home-sync-needed');

    await shell.go('Diagnostics');
    await page.getByLabel('Simulate offline').uncheck();
    await shell.waitForUnsent(0, 30_000);
    await shell.go('Outbox');
    const rows = await new OutboxPage(page).rows();
    expect(rows.filter((r) => r.state === 'Sent')).toHaveLength(6);
    const sent = emu.app.db
      .prepare("SELECT count(*) AS n FROM cases WHERE domain = 'demo' AND name LIKE 'Simulated %'")
      .get() as { n: number };
    expect(sent.n).toBe(6);
  });

  it("shows the server's 202 progress during Sync, and a cancelled sync leaves the data intact", async () => {
    const settings = emu.app.hq.settings;
    settings.asyncRestoreThreshold = -1;
    settings.asyncRetryAfter = 1;
    settings.asyncPolls = 3;
    await shell.go('Home');
    const before = await statValue('Cases on this device');
    await shell.syncButton().click();
    await page.getByText(/server preparing/).waitFor();
    await shoot(page, 'sync-progress');
    await page
      .getByRole('status')
      .filter({ hasText: /^Synced/ })
      .waitFor({ timeout: 30_000 });

    settings.asyncRetryAfter = 30;
    await shell.syncButton().click();
    await page.getByText(/server preparing/).waitFor();
    await page.getByRole('button', { name: 'Cancel sync' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Sync cancelled/ })
      .waitFor({ timeout: 5_000 });
    expect(await shell.syncButton().isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await page.waitForFunction((n) => document.querySelector('.stat .v')?.textContent === n, before);
    settings.asyncRestoreThreshold = null;
  });
});
