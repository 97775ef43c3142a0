import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../src/server/faults.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { submitFromAnotherDevice } from '../helpers/server-form.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Field-test bugs (issue 13) around the Sync button: the message after a sync says what the
 * sync changed (not every case on the device); progress and `Cancel sync` show from the
 * moment the sync starts, and Cancel works while the server is still silent.
 */
describe('sync feedback', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;
  let shell: AppShell;
  let userId: string;

  useApp({ login: 'worker1' }, (app) => {
    ({ emu, context, page } = app);
  });
  beforeAll(async () => {
    shell = new AppShell(page);
    userId = (
      emu.app.db.prepare("SELECT id FROM users WHERE username = 'worker1@demo.commcarehq.org'").get() as {
        id: string;
      }
    ).id;
  });

  const syncAndReadMessage = async (): Promise<string> => {
    await shell.syncButton().click();
    const status = page.getByRole('status').filter({ hasText: /^Synced/ });
    await status.waitFor({ timeout: 30_000 });
    const text = (await status.textContent()) ?? '';
    await page.getByRole('button', { name: 'Dismiss' }).click();
    return text;
  };

  it('says what an incremental sync changed, and that nothing changed when nothing did', async () => {
    expect(await syncAndReadMessage()).toContain('Synced: no form to send; no case changed.');

    const base = { username: 'worker1', password: 'fieldsim', userId };
    const created = await submitFromAnotherDevice(emu.url, { ...base, name: 'From the tablet' });
    expect(await syncAndReadMessage()).toContain('Synced: no form to send; 1 case created.');

    await submitFromAnotherDevice(emu.url, { ...base, caseId: created, properties: { village: 'North' } });
    await submitFromAnotherDevice(emu.url, { ...base, name: 'Second from the tablet' });
    expect(await syncAndReadMessage()).toContain('Synced: no form to send; 1 case created, 1 updated.');
  });

  it('shows progress and Cancel sync while a slow server has not answered, and Cancel stops it', async () => {
    emu.app.setFaults({ ...NO_FAULTS, latencyMs: 20_000 });
    try {
      const t0 = Date.now();
      await shell.syncButton().click();
      const cancel = page.getByRole('button', { name: 'Cancel sync' });
      await cancel.waitFor({ timeout: 2_000 });
      await page.getByText('Waiting for the server…').waitFor({ timeout: 2_000 });
      expect(await page.getByRole('progressbar', { name: 'Sync progress' }).count()).toBe(1);
      expect(await shell.syncButton().isDisabled()).toBe(true);
      await cancel.click();
      await page
        .getByRole('status')
        .filter({ hasText: /^Sync cancelled/ })
        .waitFor({ timeout: 3_000 });
      // Long before the server's 20 s delay ran out.
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(await shell.syncButton().isEnabled()).toBe(true);
      expect(await cancel.count()).toBe(0);
      await page.getByRole('button', { name: 'Dismiss' }).click();
    } finally {
      emu.app.setFaults({ ...NO_FAULTS });
    }
  });

  it('an online login onto data already on the device sends waiting forms, then syncs', async () => {
    // A form waits (offline), the worker logs out; meanwhile another device adds a case.
    await context.setOffline(true);
    await shell.go('Forms');
    await page.getByRole('link', { name: /Register a household/ }).click();
    await page.getByLabel('Household name').fill('Waited Through Logout');
    await page.getByRole('button', { name: 'Save form' }).click();
    await shell.waitForUnsent(1);
    await shell.logOutButton().click();
    await page.getByRole('button', { name: 'Log out anyway' }).click();
    await page.getByLabel('Username').waitFor();
    await context.setOffline(false);
    await submitFromAnotherDevice(emu.url, {
      username: 'worker1',
      password: 'fieldsim',
      userId,
      name: 'Added Meanwhile',
    });

    await new LoginPage(page).logIn('worker1', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    const status = page.getByRole('status').filter({ hasText: /^Synced/ });
    await status.waitFor({ timeout: 30_000 });
    expect(await status.textContent()).toContain('Synced: 1 form sent; 1 case created.');
    await shell.waitForUnsent(0);
    const sent = emu.app.db
      .prepare("SELECT count(*) AS n FROM cases WHERE domain = 'demo' AND name = 'Waited Through Logout'")
      .get() as { n: number };
    expect(sent.n).toBe(1);
    await shell.go('Cases');
    await page.getByRole('list', { name: 'Case list' }).getByText('Added Meanwhile').waitFor();
  });
});
