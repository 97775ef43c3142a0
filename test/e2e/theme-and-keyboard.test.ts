import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, App shell: dark and light themes follow the system unless the user picks one;
 * the app works from the keyboard (login in tab order, a skip link, every navigation entry
 * reachable); and the case list filters by owner.
 */
const DARK_BG = 'rgb(11, 18, 32)';
const LIGHT_BG = 'rgb(248, 250, 252)';

describe('themes, keyboard and owner filter', () => {
  let emu: Emu;
  let page: Page;

  useApp({ context: { colorScheme: 'dark' } }, (app) => {
    ({ emu, page } = app);
  });

  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const focusedName = () =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '';
    });

  it('logs in with the keyboard alone, in a sensible tab order', async () => {
    await new LoginPage(page).open(emu.url);
    expect(await background()).toBe(DARK_BG);
    await shoot(page, 'login-dark');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('username');
    await page.keyboard.type('worker1');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('password');
    await page.keyboard.type('fieldsim');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
  });

  it('offers a skip link first and reaches every navigation entry by Tab', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Tab');
    expect(await focusedName()).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const nav = page.getByRole('navigation', { name: 'Main' });
    const targets = {
      Sync: page.getByRole('button', { name: 'Sync', exact: true }),
      'Log out': page.getByRole('button', { name: 'Log out' }),
      'Unsent forms link': page.getByRole('link', { name: 'Unsent forms' }),
      ...Object.fromEntries(
        ['Home', 'Cases', 'Forms', 'Outbox', 'Diagnostics'].map((n) => [
          n,
          nav.getByRole('link', { name: n, exact: true }),
        ]),
      ),
    };
    const reached = new Set<string>();
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      for (const [name, loc] of Object.entries(targets)) {
        if (await loc.evaluate((el) => el === document.activeElement)) reached.add(name);
      }
    }
    expect([...reached].sort()).toEqual(Object.keys(targets).sort());
    await shoot(page, 'home-dark');
  });

  it('follows the system theme unless the user picks one, and remembers the choice', async () => {
    const shell = new AppShell(page);
    await shell.go('Diagnostics');
    expect(await background()).toBe(DARK_BG);
    await page.getByLabel('Colour theme').selectOption('light');
    expect(await background()).toBe(LIGHT_BG);
    await page.reload();
    // The lock screen (encrypted data) already wears the chosen theme.
    await new LockScreen(page).form().waitFor();
    expect(await background()).toBe(LIGHT_BG);
    await new LockScreen(page).unlock('fieldsim');
    expect(await background()).toBe(LIGHT_BG);
    await shell.go('Diagnostics');
    await page.getByLabel('Colour theme').selectOption('system');
    expect(await background()).toBe(DARK_BG);
  });

  it('filters the case list by owner', async () => {
    const shell = new AppShell(page);
    // Unlocked at the lock screen after the reload: sending needs nothing more.
    expect(await shell.unlockForm().count()).toBe(0);
    await shell.go('Cases');
    const list = new CaseListPage(page);
    const all = await list.count();
    // Owners are listed by name (the worker, its groups and locations).
    await page.getByLabel('Owner').selectOption({ label: 'Mine (worker1)' });
    const worker1 = emu.app.db.prepare("SELECT id FROM users WHERE username LIKE 'worker1@%'").get() as {
      id: string;
    };
    const owned = emu.app.db
      .prepare(
        "SELECT count(*) AS n FROM cases WHERE domain = 'demo' AND owner_id = ? AND closed = 0 AND deleted = 0",
      )
      .get(worker1.id) as { n: number };
    await page.waitForFunction(
      (n) =>
        document.querySelector('[data-testid="case-count"]')?.textContent?.trim() ===
        `${n} ${n === 1 ? 'case' : 'cases'}`,
      owned.n,
    );
    expect(owned.n).toBeGreaterThan(0);
    expect(owned.n).toBeLessThanOrEqual(all);
    await shoot(page, 'cases-dark');
  });
});
