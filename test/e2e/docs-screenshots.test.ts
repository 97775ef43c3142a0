import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { InstalledAppPage } from '../helpers/page-objects/installed-app-page.ts';
import { useApp } from './app-harness.ts';

const IMG = join(import.meta.dirname, '..', '..', 'docs', 'img');

/**
 * The README and docs/pwa.md show the PWA with these pictures; taking them here keeps them
 * current with every change of the app (a test run rewrites them; commit them when they
 * change). Tablet-sized, not full page: they illustrate, the e2e tests check.
 */
describe('the screenshots of the docs', () => {
  let page: Page;
  useApp(
    { login: 'worker1', context: { viewport: { width: 1024, height: 700 }, colorScheme: 'light' } },
    (app) => {
      ({ page } = app);
    },
  );

  async function picture(name: string): Promise<void> {
    mkdirSync(IMG, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    const path = join(IMG, `${name}.png`);
    await page.screenshot({ path });
    // A blank or failed capture is a few hundred bytes; a real screen is tens of KB.
    expect(statSync(path).size).toBeGreaterThan(10_000);
  }

  it('shows Home, the case list and a form of an installed app', async () => {
    const shell = new AppShell(page);
    await page.getByText(/Storage used:/).waitFor();
    await picture('home');

    await shell.go('Cases');
    expect(await new CaseListPage(page).count()).toBeGreaterThan(0);
    await picture('case-list');

    await shell.go('Apps');
    const apps = new InstalledAppPage(page);
    await apps.openApp('fieldsim demo');
    await apps.choose('Households');
    await apps.choose('Register household');
    await apps.field('Household name').fill('Amani household');
    await apps.field('Number of people').fill('3');
    await page.waitForFunction(() => document.querySelectorAll('input[id*="member_name"]').length === 3);
    await picture('app-form');
  });
});
