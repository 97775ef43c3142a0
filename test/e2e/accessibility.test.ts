import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { AppFormPage } from '../helpers/page-objects/app-form-page.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { SAVED } from '../helpers/page-objects/save-outcome.ts';
import { type Emu, useApp } from './app-harness.ts';
import { describeViolations, runAxe } from './axe.ts';

/**
 * Issue 6, App shell: "keyboard and screen-reader usable (labels on every control, focus
 * order, WCAG AA contrast)", checked by axe-core's WCAG 2.0/2.1 A and AA rules (contrast
 * included) on every screen, in the light and the dark theme, at 360 px and 1280 px.
 */

const WIDTHS = [360, 1280] as const;

/**
 * Cells of a table scrolled sideways inside its own region (the HTTP log at 360 px) are
 * hidden by the region's edge, so axe cannot measure them; they share the colours of the
 * cells it does measure in the same table.
 */
function scrolledAway(n: { target: string[]; failureSummary?: string }): boolean {
  return n.target.some((t) => /\bt[dh]\b/.test(t)) && (n.failureSummary ?? '').includes('obscured');
}
const THEMES = ['light', 'dark'] as const;

describe('accessibility (axe, WCAG 2.1 AA)', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;

  // axe is injected as a script; the app's CSP (script-src 'self') would refuse it.
  useApp({ context: { bypassCSP: true } }, (app) => {
    ({ emu, context, page } = app);
  });

  /** Checks the current screen in both themes and both widths; returns the failures. */
  async function check(name: string): Promise<string[]> {
    const failures: string[] = [];
    for (const colorScheme of THEMES) {
      await page.emulateMedia({ colorScheme });
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
        // As tall as the page: axe scrolls each element into view to measure it, and the
        // sticky header would then cover the text it measures ("could not be determined").
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        await page.setViewportSize({ width, height: Math.max(height, width === 360 ? 740 : 800) });
        // Let layout and the theme's transitions settle before measuring contrast.
        await page.waitForTimeout(150);
        const where = `${name} ${colorScheme} ${width}px`;
        const report = await runAxe(page);
        failures.push(...describeViolations(where, report.violations));
        // Contrast must really have been measured, and nowhere left undecided.
        if (!report.passed.includes('color-contrast')) failures.push(`${where}: color-contrast did not run`);
        failures.push(
          ...describeViolations(
            `${where} (undecided)`,
            report.incomplete
              .filter((v) => v.id === 'color-contrast')
              .map((v) => ({ ...v, nodes: v.nodes.filter((n) => !scrolledAway(n)) }))
              .filter((v) => v.nodes.length > 0),
          ),
        );
      }
    }
    return failures;
  }

  it('finds no violations on any screen, in either theme, at either width', async () => {
    const failures: string[] = [];
    const login = new LoginPage(page);
    const shell = new AppShell(page);
    await login.open(emu.url);
    failures.push(...(await check('Login')));

    // A wrong password shows the login error (role alert) - checked too.
    await login.logIn('worker1', 'wrong');
    await login.error().waitFor();
    failures.push(...(await check('Login error')));

    // "Login as" puts its band on every screen, so this pass covers it as well.
    await login.logIn('admin@example.com', 'fieldsim', 'worker1');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    failures.push(...(await check('Home')));

    await shell.go('Cases');
    await page.locator('[data-testid="case-list"] li').first().waitFor();
    failures.push(...(await check('Cases')));
    await page.locator('[data-testid="case-list"] li a').first().click();
    await page.getByRole('heading', { level: 2, name: 'Properties' }).waitFor();
    failures.push(...(await check('Case detail')));

    await shell.go('Forms');
    failures.push(...(await check('Forms')));
    const forms = new AppFormPage(page);
    await forms.loadApplication('admin@example.com', 'fieldsim-demo-key', true);
    await page.getByRole('heading', { level: 3, name: /Households/ }).waitFor();
    failures.push(...(await check('Forms with the application')));
    await forms.open('Register household');
    await forms.save();
    await page.getByText('Household name is required.').waitFor();
    failures.push(...(await check('Application form with errors')));
    // The same in French: fieldsim's own messages follow the form's language (issue 13).
    await shell.go('Forms');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('fr');
    await forms.open('Enregistrer un ménage');
    await page.getByRole('button', { name: 'Enregistrer le formulaire' }).click();
    await page.getByText('Nom du ménage : réponse obligatoire.').waitFor();
    failures.push(...(await check('Application form with errors, French')));
    await shell.go('Forms');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('en');
    // A child registration: the parent picker, limited to households, with its count hint.
    await forms.open('Register member');
    await page.getByRole('list', { name: 'Matching cases' }).getByRole('listitem').first().waitFor();
    failures.push(...(await check('Application form with a parent picker')));
    await shell.go('Forms');
    await page.getByRole('link', { name: /Update a case/ }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Showing 20 of/ })
      .waitFor();
    failures.push(...(await check('Update a case, picker showing 20 of N')));

    await shell.go('Forms');
    await page.getByRole('link', { name: /Register a household/ }).click();
    await page.getByLabel('Household name').waitFor();
    failures.push(...(await check('Register a household')));

    await shell.go('Outbox');
    failures.push(...(await check('Outbox (empty)')));

    await shell.go('Diagnostics');
    failures.push(...(await check('Diagnostics')));

    // After a reload the encrypted data waits behind the lock screen (and its error).
    await page.reload();
    const lock = new LockScreen(page);
    await lock.form().waitFor();
    failures.push(...(await check('Unlock')));
    await lock.form().getByLabel('Password').fill('wrong');
    await lock.form().getByRole('button', { name: 'Unlock' }).click();
    await lock.form().getByRole('alert').waitFor();
    failures.push(...(await check('Unlock error')));
    await lock.unlock('fieldsim');

    expect(failures).toEqual([]);
  });

  it('checks the Outbox with forms in every state and the offline banners', async () => {
    const shell = new AppShell(page);
    await context.setOffline(true);
    await shell.go('Forms');
    await page.getByRole('link', { name: /Register a household/ }).click();
    await page.getByLabel('Household name').fill('Axe Household');
    await page.getByLabel('Village').fill('Riverside');
    await page.getByLabel('Household size').fill('3');
    await page.getByRole('button', { name: 'Save form' }).click();
    await page.getByRole('status').filter({ hasText: SAVED }).waitFor();
    const failures = await check('Form saved offline');
    await shell.go('Outbox');
    await page.getByText('Waiting to send').first().waitFor();
    failures.push(...(await check('Outbox (waiting, offline)')));
    await shell.logOutButton().click();
    await page.getByRole('alertdialog').waitFor();
    failures.push(...(await check('Log out with unsent forms')));
    await context.setOffline(false);
    expect(failures).toEqual([]);
  });
});
