import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CaseRepo } from '../../src/server/db/cases.ts';
import { demoApplication } from '../../src/server/seed/demo-app.ts';
import { SAMPLES_DIR } from '../contract/samples.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { InstalledAppPage } from '../helpers/page-objects/installed-app-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { SAVED } from '../helpers/page-objects/save-outcome.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';
import { axeScreen } from './axe-check.ts';

/**
 * Issue 13: the PWA installs the project's real CommCare app (profile, suite, XForms) from
 * the server the worker logged in to, and runs it: menus, case lists with the short
 * detail, the long detail, forms with the XForm engine (required, constraint messages,
 * jr:count repeats, <output> labels, casedb preloads), incomplete forms, offline saves,
 * languages; and a .ccz opened from a file.
 */

const SAMPLES = join(SAMPLES_DIR, 'commcare-core');

function sampleCcz(folder: string): Buffer {
  const root = join(SAMPLES, folder);
  const files: Record<string, Uint8Array> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(root, p)] = new Uint8Array(readFileSync(p));
    }
  };
  walk(root);
  return Buffer.from(zipSync(files));
}

describe('installed CommCare apps in the PWA', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;

  // axe is injected as a script; the app's CSP would refuse it.
  useApp({ context: { bypassCSP: true } }, (app) => {
    ({ emu, context, page } = app);
  });

  const caseByName = (name: string) => {
    const row = emu.app.db.prepare('SELECT case_id FROM cases WHERE name = ?').get(name) as
      | { case_id: string }
      | undefined;
    return row ? new CaseRepo(emu.app.db).get(row.case_id) : undefined;
  };

  const axe = (name: string) => axeScreen(page, name);

  it('installs the demo app, registers a household and follows it up, and the server has both', async () => {
    const shell = new AppShell(page);
    const apps = new InstalledAppPage(page);
    const a11y: string[] = [];
    await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');
    await shell.go('Apps');
    const version = demoApplication().version;
    await apps.appCard('fieldsim demo').getByText(`Version ${version}`).waitFor();
    a11y.push(...(await axe('Apps')));
    await shoot(page, 'installed-apps');

    await apps.openApp('fieldsim demo');
    const menu = page.getByRole('list', { name: 'fieldsim demo menu' });
    expect(await menu.getByRole('link').allTextContents()).toEqual(['Households', 'Members']);
    await apps.choose('Households');
    expect(
      await page.getByRole('list', { name: 'Households menu' }).getByRole('link').allTextContents(),
    ).toEqual(['Register household', 'Follow up', 'Close household']);

    // Register household: the required name, the form's own constraint message, jr:count.
    await apps.choose('Register household');
    await apps.submit();
    const nameError = page.locator('[id$="household_name-error"]');
    await nameError.waitFor();
    expect(await nameError.textContent()).toBe('An answer is required.');
    const size = apps.field('Number of people');
    await size.fill('40');
    const sizeError = page.getByText('A household has between 1 and 30 people.');
    await sizeError.waitFor();
    expect(await size.getAttribute('aria-invalid')).toBe('true');
    expect(await size.getAttribute('aria-describedby')).toBe(await sizeError.getAttribute('id'));
    a11y.push(...(await axe('Form with errors')));
    await shoot(page, 'installed-app-form-errors');
    await size.fill('2');
    await page.waitForFunction(() => document.querySelectorAll('input[id*="member_name"]').length === 2);
    expect(await size.getAttribute('aria-invalid')).toBeNull();
    await apps.field('Household name').fill('Apps Household');
    await page.getByRole('radio', { name: 'Hilltop' }).check();
    const memberNames = page.getByLabel('Name of member', { exact: true });
    await memberNames.nth(0).fill('Ada');
    // The label's <output>s follow the calculation.
    await page.getByText('1 of 2 members of Apps Household named.').waitFor();
    await memberNames.nth(1).fill('Bo');
    await page.getByText('2 of 2 members of Apps Household named.').waitFor();
    // The form's count shrinks the repeat.
    await size.fill('1');
    await page.waitForFunction(() => document.querySelectorAll('input[id*="member_name"]').length === 1);
    await page.getByText('1 of 1 members of Apps Household named.').waitFor();
    await apps.submit();
    await apps.saved().waitFor();
    await page.getByRole('status').filter({ hasText: SAVED }).waitFor();
    await shell.waitForUnsent(0, 30_000);
    const registered = caseByName('Apps Household');
    expect(registered?.caseType).toBe('household');
    expect(registered?.properties).toMatchObject({
      village: 'hilltop',
      household_size: '1',
      visit_count: '0',
    });
    await shell.go('Outbox');
    await page.locator('ol.outbox > li').filter({ hasText: 'Register household' }).first().waitFor();

    // Follow up: the short detail, the long detail, casedb preloads; saved incomplete and resumed.
    await shell.go('Apps');
    await apps.openApp('fieldsim demo');
    await apps.choose('Households');
    await apps.choose('Follow up');
    const headers = await page.getByRole('table').locator('th').allTextContents();
    expect(headers).toEqual(['Name', 'Village', 'People', 'Registered']);
    expect(await page.getByRole('table').locator('tbody tr').count()).toBeGreaterThan(1);
    a11y.push(...(await axe('Case list')));
    await page.getByLabel('Search cases').fill('Apps House');
    expect(await page.getByRole('table').locator('tbody tr').count()).toBe(1);
    await page.getByRole('table').getByRole('link', { name: 'Apps Household' }).click();
    await page.getByRole('heading', { name: 'Case details' }).waitFor();
    expect(await page.locator('dl.props dt').allTextContents()).toContain('Last notes');
    a11y.push(...(await axe('Case details')));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Visit to Apps Household in Hilltop.').waitFor();
    expect(await apps.field('Visit number').inputValue()).toBe('1');
    await apps.field('Notes').fill('Roof repaired');
    await apps.saveIncomplete();
    await shell.go('Outbox');
    const draftRow = page.locator('ol.outbox > li[data-state="incomplete"]');
    await draftRow.getByRole('link', { name: /^Resume form/ }).click();
    await page.getByText('Visit to Apps Household in Hilltop.').waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('input')].some((i) => i.value === 'Roof repaired'),
    );
    await apps.submit();
    await apps.saved().waitFor();
    await shell.waitForUnsent(0, 30_000);
    expect(await page.locator('ol.outbox > li[data-state="incomplete"]').count()).toBe(0);
    const followed = caseByName('Apps Household');
    expect(followed?.properties).toMatchObject({ visit_count: '1', last_visit_notes: 'Roof repaired' });
    expect(a11y).toEqual([]);
  });

  it('saves offline from the case screen and sends later; French labels and messages', async () => {
    const shell = new AppShell(page);
    const apps = new InstalledAppPage(page);
    // The case's own screen offers the app forms that apply to it.
    await shell.go('Cases');
    await page.getByRole('link', { name: 'Apps Household' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Apps Household' }).waitFor();
    const appForms = page.getByRole('list', { name: 'fieldsim demo' });
    await appForms.getByRole('link', { name: 'Register member' }).waitFor();
    expect(await appForms.getByRole('link').allTextContents()).toEqual([
      'Follow up',
      'Close household',
      'Register member',
    ]);

    await context.setOffline(true);
    await appForms.getByRole('link', { name: 'Close household' }).click();
    await page.getByRole('heading', { level: 1, name: 'Close household' }).waitFor();
    await page.getByRole('radio', { name: 'Moved away' }).check();
    await apps.submit();
    await apps.saved().waitFor();
    await shell.waitForUnsent(1);
    expect(caseByName('Apps Household')?.closed).toBe(false);
    // Reloaded offline, the installed app still opens (IndexedDB and the precache).
    await page.reload();
    await new LockScreen(page).unlock('fieldsim');
    await shell.go('Apps');
    await apps.openApp('fieldsim demo');
    await page.getByRole('link', { name: 'Households', exact: true }).waitFor();
    await context.setOffline(false);
    await shell.syncButton().click();
    await shell.waitForUnsent(0, 30_000);
    expect(caseByName('Apps Household')?.closed).toBe(true);

    // French: menus, labels and the constraint message follow the Language choice.
    await shell.go('Apps');
    await apps.openApp('fieldsim demo');
    await apps.chooseLanguage('fr');
    await page.getByRole('link', { name: 'Ménages', exact: true }).waitFor();
    await apps.choose('Ménages');
    await apps.choose('Enregistrer un ménage');
    await apps.field('Nombre de personnes').fill('31');
    await page.getByText('Un ménage compte entre 1 et 30 personnes.').waitFor();
    {
      const failures = await axe('Form in French');
      expect(failures).toEqual([]);
    }
    await apps.chooseLanguage('en');
    await page.getByText('A household has between 1 and 30 people.').waitFor();
    await apps.field('Number of people').waitFor();
  });

  it('opens a .ccz from a file and shows its menus', async () => {
    const shell = new AppShell(page);
    const apps = new InstalledAppPage(page);
    await shell.go('Apps');
    await page.getByLabel('Open a .ccz file').setInputFiles({
      name: 'app_for_text_tests.ccz',
      mimeType: 'application/zip',
      buffer: sampleCcz('app_for_text_tests'),
    });
    await page.getByRole('status').filter({ hasText: 'Installed trivial_test_resources' }).waitFor();
    await apps.appCard('trivial_test_resources').getByText('Version 1').waitFor();
    await apps.openApp('trivial_test_resources');
    const links = await page
      .getByRole('list', { name: 'trivial_test_resources menu' })
      .getByRole('link')
      .allTextContents();
    expect(links).toEqual([
      'RAWTEXT',
      'EnglishString',
      'ValueArgument',
      'Message1',
      'OneThreeTwo',
      'OneThreeTwo',
    ]);

    // A broken archive says which file is missing and keeps the installed apps.
    const broken = zipSync({
      'profile.ccpr': readFileSync(join(SAMPLES, 'app_for_text_tests', 'profile.ccpr')),
    });
    await shell.go('Apps');
    await page.getByLabel('Open a .ccz file').setInputFiles({
      name: 'broken.ccz',
      mimeType: 'application/zip',
      buffer: Buffer.from(broken),
    });
    const alert = page.getByRole('alert').filter({ hasText: 'Could not open broken.ccz' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('suite.xml');
    expect(await page.getByRole('list', { name: 'Installed apps' }).getByRole('listitem').count()).toBe(2);
  });
});
