import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppShell, type NavEntry } from '../helpers/page-objects/app-shell.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, "Log in as": a web user opens the app as a mobile worker (restore with `as=`,
 * PROTOCOL.md 3.2), marked on every screen; forms reach the server in the worker's name;
 * the pair's data stays apart from the worker's own login on the same device.
 */

describe('login as a mobile worker', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;
  let login: LoginPage;
  let shell: AppShell;

  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });
  beforeAll(async () => {
    login = new LoginPage(page);
    shell = new AppShell(page);
  });

  const userId = (username: string) =>
    (emu.app.db.prepare('SELECT id FROM users WHERE username = ?').get(username) as { id: string }).id;

  it("shows worker1's cases, marks every screen, and sends forms in worker1's name", async () => {
    await login.open(emu.url);
    // The project's workers are offered once the web user's credentials are typed.
    expect((await login.workerSuggestions('admin@example.com', 'fieldsim')).sort()).toEqual([
      'worker1',
      'worker2',
    ]);
    await shoot(page, 'login-as-form');
    await login.logIn('admin@example.com', 'fieldsim', 'worker1');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    const banner = shell.loginAsBanner();
    expect(await banner.textContent()).toContain('Working as worker1');
    expect(await banner.textContent()).toContain('logged in by admin@example.com');

    for (const screen of ['Cases', 'Forms', 'Outbox', 'Diagnostics', 'Home'] satisfies NavEntry[]) {
      await shell.go(screen);
      await banner.waitFor();
    }
    await shoot(page, 'login-as-home');
    await shell.go('Diagnostics');
    expect(await page.locator('dt:text-is("Logged in by") + dd').textContent()).toContain(
      'admin@example.com',
    );
    await shell.go('Home');

    await shell.go('Cases');
    const list = new CaseListPage(page);
    const before = await list.count();
    expect(before).toBeGreaterThan(0);
    // worker1's own cases (owned by worker1 or its case-sharing group), restored with as=.
    const owned = emu.app.db
      .prepare("SELECT count(*) AS n FROM cases WHERE owner_id = ? AND domain = 'demo'")
      .get(userId('worker1@demo.commcarehq.org')) as { n: number };
    expect(before).toBeGreaterThanOrEqual(owned.n);

    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Registered By Admin As Worker1', 'Riverside', '5');
    await shell.syncButton().click();
    await page.getByRole('status').filter({ hasText: 'Synced:' }).waitFor({ timeout: 30_000 });
    await shell.waitForUnsent(0);

    const form = emu.app.db
      .prepare(
        "SELECT username, user_id, auth_user_id FROM forms WHERE xml LIKE '%Registered By Admin As Worker1%'",
      )
      .get();
    expect(form).toEqual({
      username: 'worker1',
      user_id: userId('worker1@demo.commcarehq.org'),
      auth_user_id: userId('admin@example.com'),
    });
    await shell.go('Cases');
    expect(await list.count()).toBe(before + 1);
  });

  it("reopens offline as the same pair, asking for the web user's password to send", async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await context.setOffline(true);
    await page.reload();
    // The encrypted data waits for the web user's password (the lock screen).
    const lock = new LockScreen(page);
    await lock.form().waitFor();
    expect(await page.getByRole('main').textContent()).toContain('Working as worker1');
    expect(await page.getByRole('main').textContent()).toContain('the password of admin@example.com');
    await lock.unlock('fieldsim');
    // A reload keeps its screen (Cases here).
    await page.getByRole('heading', { level: 1, name: 'Cases' }).waitFor();
    expect(await shell.loginAsBanner().textContent()).toContain('Working as worker1');

    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Waiting In The Pair', 'Hilltop', '2');
    await shell.waitForUnsent(1);
    // Logged out while still offline: the unlock gave the session the password, so back
    // online the form would leave at once instead of waiting in the pair's outbox.
    await shell.logOutButton().click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Log out anyway' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await context.setOffline(false);

    // worker1's own login on this device: its own database, none of the pair's waiting forms.
    await login.logIn('worker1', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    expect(await shell.unsentCount()).toBe(0);
    expect(await shell.loginAsBanner().count()).toBe(0);
    await shell.go('Cases');
    const list = new CaseListPage(page);
    await list.search('Waiting In The Pair');
    expect(await list.count()).toBe(0);
    // ...but the form sent earlier in the pair is worker1's on the server, so it restored here.
    // (waiting for the row: the search helper can read the previous empty result first)
    await list.search('Registered By Admin');
    await page
      .locator('[data-testid="case-list"] li .name', { hasText: 'Registered By Admin As Worker1' })
      .waitFor();
    expect(await list.count()).toBe(1);
    await shell.logOutButton().click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();

    // The pair again, logging in offline (stored verifier): the waiting form is there, and
    // it goes out in worker1's name once the network is back.
    await context.setOffline(true);
    await login.logIn('admin@example.com', 'fieldsim', 'worker1');
    await shell.loginAsBanner().waitFor();
    await shell.waitForUnsent(1);
    await context.setOffline(false);
    await shell.waitForUnsent(0, 30_000);
    const sent = emu.app.db
      .prepare("SELECT username, auth_user_id FROM forms WHERE xml LIKE '%Waiting In The Pair%'")
      .get();
    expect(sent).toEqual({ username: 'worker1', auth_user_id: userId('admin@example.com') });
  });
});
