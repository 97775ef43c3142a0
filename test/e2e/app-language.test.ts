import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { AppFormPage } from '../helpers/page-objects/app-form-page.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, Forms: module, form and question labels "in the user's language". The demo application
 * has English (its default) and French. The `Language` choice lists the app's languages,
 * starts from the browser's language (else the app's first), and is kept across reloads.
 */

describe('application labels in the user language', () => {
  let emu: Emu;
  let browser: Browser;
  let page: Page;

  useApp({ context: { locale: 'en-US' } }, (app) => {
    ({ emu, browser, page } = app);
  });

  async function logInAndLoadApp(p: Page): Promise<void> {
    await new LoginPage(p).open(emu.url);
    await new LoginPage(p).logIn('worker1', 'fieldsim');
    await p.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await new AppShell(p).go('Forms');
    await new AppFormPage(p).loadApplication('admin@example.com', 'fieldsim-demo-key', true);
    await p.getByRole('combobox', { name: 'Language' }).waitFor();
  }

  it('switches module and form names between the app languages and keeps the choice', async () => {
    await logInAndLoadApp(page);
    const language = page.getByRole('combobox', { name: 'Language' });
    // en-US browser: the app's English, no choice made yet.
    expect(await language.inputValue()).toBe('en');
    expect(
      await language.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(['en', 'fr']);
    await page.getByRole('heading', { level: 3, name: /^Households/ }).waitFor();

    await language.selectOption('fr');
    await page.getByRole('heading', { level: 3, name: /^Ménages/ }).waitFor();
    expect(await page.getByRole('heading', { level: 3, name: /^Households/ }).count()).toBe(0);
    for (const name of ['Enregistrer un ménage', 'Suivi', 'Fermer le ménage', 'Enregistrer un membre'])
      expect(await page.getByRole('link', { name: new RegExp(`^${name}`) }).count()).toBe(1);
    await shoot(page, 'forms-fr');

    // The form itself: title, question labels and choices in French, marked as French
    // for screen readers; place names have no translation and stay as sent.
    await new AppFormPage(page).open('Enregistrer un ménage');
    expect(await page.getByRole('heading', { level: 1 }).getAttribute('lang')).toBe('fr');
    await page.getByLabel('Nom du ménage').waitFor();
    await page.getByLabel('Nombre de personnes').waitFor();
    expect(await page.getByLabel('Household name').count()).toBe(0);
    await page.getByRole('group', { name: 'Village' }).getByRole('radio', { name: 'Hilltop' }).waitFor();
    await shoot(page, 'app-form-fr');

    // Kept across a reload.
    await page.reload();
    await new LockScreen(page).unlock('fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Enregistrer un ménage' }).waitFor();
    await new AppShell(page).go('Forms');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('en');
    await new AppFormPage(page).open('Register household');
    await page.getByLabel('Household name').waitFor();
    expect(await page.getByLabel('Nom du ménage').count()).toBe(0);
  });

  it("starts in the browser's language when the app has it, else in the app's first", async () => {
    for (const [locale, expected, module] of [
      ['fr-FR', 'fr', /^Ménages/],
      ['de-DE', 'en', /^Households/],
    ] as const) {
      const ctx = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
      try {
        const p = await ctx.newPage();
        await logInAndLoadApp(p);
        expect(await p.getByRole('combobox', { name: 'Language' }).inputValue()).toBe(expected);
        await p.getByRole('heading', { level: 3, name: module }).waitFor();
      } finally {
        await ctx.close();
      }
    }
  });

  it("gives fieldsim's own validation and save messages in the form's language", async () => {
    const shell = new AppShell(page);
    await shell.go('Forms');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('fr');
    await new AppFormPage(page).open('Enregistrer un ménage');
    await page.getByLabel('Nombre de personnes').fill('2.5');
    await page.getByRole('button', { name: 'Enregistrer le formulaire' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Vérifiez les réponses signalées ci-dessous.' })
      .waitFor();
    await page.getByText('Nom du ménage : réponse obligatoire.').waitFor();
    await page.getByText('Nombre de personnes : saisissez un nombre entier.').waitFor();
    expect(await page.getByText(/is required|must be a whole number|Check the answers/).count()).toBe(0);

    await page.getByLabel('Nom du ménage').fill('Ménage Francophone');
    await page.getByLabel('Nombre de personnes').fill('4');
    await page.getByRole('button', { name: 'Enregistrer le formulaire' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Envoyé au serveur|Enregistré dans la boîte d'envoi/ })
      .waitFor();
    await page.getByRole('link', { name: 'Ouvrir le cas' }).waitFor();

    // Back in English, the same checks speak English.
    await shell.go('Forms');
    await page.getByRole('combobox', { name: 'Language' }).selectOption('en');
    await new AppFormPage(page).open('Register household');
    await page.getByRole('button', { name: 'Save form' }).click();
    await page.getByText('Household name is required.').waitFor();
  });
});
