import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { setKeyRecords } from '../../src/server/mobile-auth/keys-routes.ts';
import { changePassword } from '../helpers/change-password.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 16, password changed on the server, in Chromium: the PWA's next online login with
 * the new password opens the encrypted data through the key escrow (the emulator's key
 * records); on a server without key records the login screen asks for the "Previous
 * password" once. Either way the old password then opens nothing on the device.
 */

describe('password changed on the server (PWA)', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;
  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });

  async function caseCount(): Promise<number> {
    await new AppShell(page).go('Cases');
    const list = new CaseListPage(page);
    await page.locator('[data-testid="case-list"] li').first().waitFor();
    return list.count();
  }

  async function logOut(): Promise<void> {
    await new AppShell(page).logOutButton().click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  }

  it('with key records: the new password opens Home with the cases; the old one opens nothing', async () => {
    const login = new LoginPage(page);
    await login.logInToHome(emu.url, 'worker1', 'fieldsim');
    const before = await caseCount();
    expect(before).toBeGreaterThan(0);
    await logOut();

    await changePassword(emu.url, 'worker1', 'changed-in-hq-1');
    await login.logIn('worker1', 'changed-in-hq-1');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    // No question asked: the escrow re-protected the data for the new password.
    await page
      .getByRole('status')
      .filter({ hasText: 'Your data was re-protected for the new password.' })
      .waitFor();
    expect(await page.getByLabel('Previous password').count()).toBe(0);
    expect(await caseCount()).toBe(before);
    await logOut();

    // Offline, only the new password opens the device's data.
    await context.setOffline(true);
    await login.logIn('worker1', 'fieldsim');
    await login.error().waitFor();
    expect(await page.getByRole('heading', { level: 1, name: 'Home' }).count()).toBe(0);
    await login.logIn('worker1', 'changed-in-hq-1');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    expect(await caseCount()).toBe(before);
    await logOut();
    await context.setOffline(false);
  });

  it('without key records: the login screen asks for the "Previous password" once', async () => {
    setKeyRecords(emu.app.hq, false);
    const login = new LoginPage(page);
    await login.logIn('worker2', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    const before = await caseCount();
    await logOut();

    await changePassword(emu.url, 'worker2', 'changed-in-hq-2');
    await login.logIn('worker2', 'changed-in-hq-2');
    const field = page.getByLabel('Previous password');
    await field.waitFor();
    expect(await login.error().textContent()).toContain('password used before');
    expect(await page.getByRole('heading', { level: 1, name: 'Home' }).count()).toBe(0);

    // A wrong previous password opens nothing; the right one opens Home with the cases.
    await field.fill('not-it');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not open' }).waitFor();
    await field.fill('fieldsim');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await page.getByRole('status').filter({ hasText: 're-protected for the new password' }).waitFor();
    expect(await caseCount()).toBe(before);
    await logOut();

    // The next login with the new password needs nothing more; the old one is refused.
    await login.logIn('worker2', 'changed-in-hq-2');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    expect(await page.getByLabel('Previous password').count()).toBe(0);
    await logOut();
    await context.setOffline(true);
    await login.logIn('worker2', 'fieldsim');
    await login.error().waitFor();
    expect(await page.getByRole('heading', { level: 1, name: 'Home' }).count()).toBe(0);
    await context.setOffline(false);
  });
});
