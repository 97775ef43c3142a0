import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { importApp } from '../../src/server/apps/import-app.ts';
import { demoApplication } from '../../src/server/seed/demo-app.ts';
import { demoAppFiles } from '../../src/server/seed/demo-app-files.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { InstalledAppPage } from '../helpers/page-objects/installed-app-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';
import { axeScreen } from './axe-check.ts';
import { CONTROLS_XMLNS, controlsCcz } from './controls-app.ts';

/**
 * Issue 13, form entry and app updates: every control type of an XForm in the PWA
 * (a form built in the test and opened as a .ccz), and an app that updates at sync —
 * a good new build replaces the old one, a broken one is refused with its file named
 * while the previous build keeps working.
 */

describe('installed app forms and updates', () => {
  let emu: Emu;
  let page: Page;

  useApp({ context: { bypassCSP: true }, login: 'worker1' }, (app) => {
    ({ emu, page } = app);
  });

  it('renders and answers every control type, and submits what the form holds', async () => {
    const shell = new AppShell(page);
    const apps = new InstalledAppPage(page);
    await shell.go('Apps');
    await page.getByLabel('Open a .ccz file').setInputFiles({
      name: 'controls.ccz',
      mimeType: 'application/zip',
      buffer: controlsCcz(),
    });
    await apps.openApp('Controls app');
    await apps.choose('Controls');
    // An entry whose suite assertion fails shows the assertion's message, not the form.
    await apps.choose('Blocked form');
    await page.getByRole('alert').filter({ hasText: 'This form is closed for now.' }).waitFor();
    expect(await page.locator('form.app-form').count()).toBe(0);
    await page.goBack();
    // A form that does not parse says which file and why; the rest of the app works.
    await apps.choose('Broken form');
    const broken = page.getByRole('alert').filter({ hasText: 'This form cannot be opened' });
    await broken.waitFor();
    expect(await broken.textContent()).toContain('modules-0/forms-1.xml');
    await page.goBack();
    await apps.choose('Every control');

    // Hint as the input's description; markdown as a safe subset, raw HTML left as text.
    const name = apps.field('Full name');
    const hint = page.getByText('As on the ID card');
    expect(await name.getAttribute('aria-describedby')).toContain(await hint.getAttribute('id'));
    const form = page.locator('form.app-form');
    expect(await form.locator('strong').filter({ hasText: 'Bold' }).count()).toBe(1);
    expect(await form.locator('em').filter({ hasText: 'italic' }).count()).toBe(1);
    expect(await form.locator('a[href*="example.org"]').count()).toBe(0);
    expect(await form.locator('b').count()).toBe(0);
    await form.getByText('and <b>raw</b>').waitFor();

    // Relevance, live.
    expect(await page.getByLabel('Detail', { exact: true }).count()).toBe(0);
    await page.getByRole('radio', { name: 'Yes', exact: true }).check();
    await page.getByLabel('Detail', { exact: true }).fill('shown');
    await page.getByRole('radio', { name: 'No', exact: true }).check();
    await page.getByLabel('Detail', { exact: true }).waitFor({ state: 'detached' });

    // Types and the form's constraint message.
    const age = apps.field('Age in years');
    await age.fill('abc');
    await page.getByText('"abc" is not a whole number').waitFor();
    await age.fill('130');
    await page.getByText('People here are younger than 120.').waitFor();
    expect(await age.getAttribute('aria-invalid')).toBe('true');
    await age.fill('30');
    await page.getByText('People here are younger than 120.').waitFor({ state: 'detached' });
    await apps.field('Weight in kg').fill('61.5');
    await apps.field('Visit date').fill('2024-05-06');
    await apps.field('Visit time').fill('09:30');
    await page.getByRole('radio', { name: 'Blue' }).check();
    await page.getByRole('checkbox', { name: 'Apple' }).check();
    await page.getByRole('checkbox', { name: 'Banana' }).check();
    // An itemset from a lookup instance.
    await page.getByRole('radio', { name: 'South' }).check();
    await page.getByRole('group', { name: 'One page' }).getByLabel('First', { exact: true }).fill('1st');
    await apps.field('Second').fill('2nd');

    // A repeat the user grows and shrinks; the <output> follows.
    await page.getByRole('button', { name: 'Add Children' }).click();
    await page.getByRole('group', { name: 'Children 1' }).getByLabel('Child name').fill('Kid A');
    await page.getByRole('button', { name: 'Add Children' }).click();
    await page.getByRole('group', { name: 'Children 2' }).getByLabel('Child name').fill('Kid B');
    await page.getByText('Children named: 2').waitFor();
    await page.getByRole('button', { name: 'Remove Children 1' }).click();
    await page.getByText('Children named: 1').waitFor();

    // Required, checked at Submit, focused.
    await apps.submit();
    await page.locator('[id$="name-error"]').filter({ hasText: 'An answer is required.' }).waitFor();
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    expect(await axeScreen(page, 'Every control')).toEqual([]);
    await shoot(page, 'installed-app-controls');
    await name.fill('Ana Lima');
    await apps.submit();
    await apps.saved().waitFor();
    await shell.waitForUnsent(0, 30_000);

    const row = emu.app.db.prepare('SELECT xml FROM forms WHERE xmlns = ?').get(CONTROLS_XMLNS) as
      | { xml: string }
      | undefined;
    const xml = row?.xml ?? '';
    for (const part of [
      '<name>Ana Lima</name>',
      '<age>30</age>',
      '<weight>61.5</weight>',
      '<visit_date>2024-05-06</visit_date>',
      '<colour>blue</colour>',
      '<fruits>apple banana</fruits>',
      '<place>s</place>',
      '<first>1st</first>',
      '<child_name>Kid B</child_name>',
      '<total>1</total>',
    ])
      expect(xml).toContain(part);
    expect(xml).toMatch(/<visit_time>09:30/);
    expect(xml).not.toContain('Kid A');
    // The group that was not relevant is not sent.
    expect(xml).not.toContain('<detail>');
  });

  it('updates the app at sync, and keeps the working build when the new one is broken', async () => {
    const shell = new AppShell(page);
    const apps = new InstalledAppPage(page);
    const v = demoApplication().version;
    await shell.go('Apps');
    await apps.appCard('fieldsim demo').getByText(`Version ${v}`).waitFor();

    const files = demoAppFiles();
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    const en = dec.decode(files.get('en/app_strings.txt')).replace('=Households', '=Homes');
    files.set('en/app_strings.txt', enc.encode(en));
    const good = importApp(emu.app.db, 'demo', { files, source: 'test update' });
    expect(good.app.version).toBe(v + 1);
    await shell.syncButton().click();
    await apps
      .appCard('fieldsim demo')
      .getByText(`Version ${v + 1}`)
      .waitFor({ timeout: 30_000 });
    await apps.openApp('fieldsim demo');
    await page.getByRole('link', { name: 'Homes', exact: true }).waitFor();

    const broken = new Map(files);
    const suite = dec
      .decode(broken.get('suite.xml'))
      .replace('<menu id="m0">', '<menu id="m0" relevant="count((">');
    broken.set('suite.xml', enc.encode(suite));
    expect(importApp(emu.app.db, 'demo', { files: broken, source: 'test broken' }).app.version).toBe(v + 2);
    await shell.go('Apps');
    await shell.syncButton().click();
    const failed = apps.appCard('fieldsim demo').getByRole('note');
    await failed.waitFor({ timeout: 30_000 });
    expect(await failed.textContent()).toContain('suite.xml');
    expect(await failed.textContent()).toContain(`Version ${v + 1} stays in use`);
    await apps.openApp('fieldsim demo');
    await apps.choose('Homes');
    await page.getByRole('link', { name: 'Register household', exact: true }).waitFor();
  });
});
