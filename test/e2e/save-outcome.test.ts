import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppFormPage } from '../helpers/page-objects/app-form-page.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { useApp } from './app-harness.ts';

/**
 * Issue 13: after saving, the form's status says what happened to it: "Sent to the server."
 * when it went at once, "Saved to the outbox" while it waits (offline).
 */
describe('what a saved form says', () => {
  let context: BrowserContext;
  let page: Page;
  let shell: AppShell;

  useApp({ login: 'worker1' }, (app) => {
    ({ context, page } = app);
  });
  beforeAll(async () => {
    shell = new AppShell(page);
  });

  const status = () => page.getByRole('status').filter({ hasText: /Saved to the outbox|Sent to the server/ });

  const stat = async (label: string): Promise<string> => {
    const v = page
      .locator('.stat')
      .filter({ has: page.locator('.k', { hasText: new RegExp(`^${label}$`) }) })
      .locator('.v');
    return ((await v.textContent()) ?? '').trim();
  };

  it('Home shows the last sync and the last form sent apart', async () => {
    await shell.go('Home');
    expect(await stat('Last form sent')).toBe('never');
    const lastSync = await stat('Last sync');
    expect(lastSync).not.toBe('never');
  });

  it('says Sent for a generic form that went at once, and Saved to the outbox offline', async () => {
    await shell.go('Forms');
    await page.getByRole('link', { name: /Register a household/ }).click();
    await page.getByLabel('Household name').fill('Sent At Once');
    await page.getByRole('button', { name: 'Save form' }).click();
    await status().filter({ hasText: 'Sent to the server.' }).waitFor({ timeout: 15_000 });
    expect(await page.getByText(/Saved to the outbox/).count()).toBe(0);

    await context.setOffline(true);
    await page.getByLabel('Household name').fill('Kept Offline');
    await page.getByRole('button', { name: 'Save form' }).click();
    await status().filter({ hasText: 'Saved to the outbox' }).waitFor();
    await page.waitForTimeout(500);
    expect(await status().textContent()).toContain('Saved to the outbox');
    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    // Sent once the device is back online; the status follows.
    await status().filter({ hasText: 'Sent to the server.' }).waitFor({ timeout: 30_000 });
    await shell.waitForUnsent(0);
    // The outbox sent on its own: Home shows the send, and does not pretend it synced.
    const syncBefore = await (async () => {
      await shell.go('Home');
      return stat('Last sync');
    })();
    expect(await stat('Last form sent')).not.toBe('never');
    expect(syncBefore).not.toBe('never');
    await page.waitForTimeout(1100);
    await shell.syncButton().click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Synced/ })
      .waitFor({ timeout: 30_000 });
    expect(await stat('Last sync')).not.toBe(syncBefore);
  });

  it('says Sent for an application form that went at once', async () => {
    await shell.go('Forms');
    const forms = new AppFormPage(page);
    await forms.loadApplication('admin@example.com', 'fieldsim-demo-key', true);
    await forms.open('Register household');
    await page.getByLabel('Household name').fill('App Form Sent');
    await forms.save();
    await status().filter({ hasText: 'Sent to the server.' }).waitFor({ timeout: 15_000 });
  });
});
