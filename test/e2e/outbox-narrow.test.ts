import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../src/server/faults.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 13: at 360 px, Outbox cards with long unbroken text (URLs, imported names, server
 * errors) must wrap inside the card instead of pushing it wider than the screen.
 */
describe('outbox at 360 px', () => {
  let emu: Emu;
  let page: Page;

  useApp({ context: { viewport: { width: 360, height: 740 } } }, (app) => {
    ({ emu, page } = app);
  });

  it('keeps every card within the viewport with long unbroken names and errors', async () => {
    const shell = new AppShell(page);
    await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');
    // A sent form and a waiting one with a server error, both with unbreakable names.
    await shell.go('Forms');
    const long = `https://example.org/imported/${'household-name-without-any-space-'.repeat(6)}`;
    await new FormsPage(page).registerHousehold(long, 'V'.repeat(80), '3');
    await shell.waitForUnsent(0);
    emu.app.setFaults({ ...NO_FAULTS, error500: 1 });
    await shell.go('Forms');
    await new FormsPage(page).registerHousehold(`${long}-second`, 'V'.repeat(80), '4');
    await shell.go('Outbox');
    await page
      .locator('ol.outbox > li .note')
      .filter({ hasText: 'Last error' })
      .first()
      .waitFor({ timeout: 15_000 });
    emu.app.setFaults({ ...NO_FAULTS });
    // Open the XML too: the longest unbroken lines are in it.
    for (const d of await page.locator('ol.outbox > li details').all()) await d.locator('summary').click();
    await page.locator('pre.xml').filter({ hasText: '<data' }).first().waitFor();

    const widths = await page.$$eval('ol.outbox > li', (lis) =>
      lis.map((li) => ({
        scroll: li.scrollWidth,
        client: li.clientWidth,
        right: li.getBoundingClientRect().right,
      })),
    );
    expect(widths.length).toBe(2);
    for (const w of widths) {
      expect(w.scroll).toBeLessThanOrEqual(w.client);
      expect(w.right).toBeLessThanOrEqual(360);
    }
    const doc = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(doc.scroll).toBeLessThanOrEqual(doc.client);
  });
});
