import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CaseRepo } from '../../src/server/db/cases.ts';
import { DEMO_XMLNS } from '../../src/server/seed/demo-app.ts';
import { AppFormPage } from '../helpers/page-objects/app-form-page.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseDetailPage } from '../helpers/page-objects/case-detail-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, Forms: the application's modules and forms from the Application Structure API,
 * rendered from their questions, validated, saved with their case actions (register,
 * register a child, update, close), an incomplete form saved and resumed, and all of it
 * delivered to the emulator.
 */

describe('application forms', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;

  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });

  it('loads the app, validates answers, saves register/child/update/close forms (one resumed from incomplete) and the emulator holds them', async () => {
    const shell = new AppShell(page);
    const forms = new AppFormPage(page);
    await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');
    await shell.go('Forms');

    // HQ answers this API to web users only: load it with the demo web user's API key.
    await forms.loadApplication('admin@example.com', 'fieldsim-demo-key', true);
    await page.getByRole('heading', { level: 3, name: /Households/ }).waitFor();
    for (const name of ['Register household', 'Follow up', 'Close household', 'Register member']) {
      expect(await page.getByRole('link', { name: new RegExp(`^${name}`) }).count()).toBe(1);
    }
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).not.toContain('fieldsim-demo-key');
    await shoot(page, 'forms');

    // Register a household: required and numeric checks first.
    await forms.open('Register household');
    await page.getByLabel('Number of people').fill('2.5');
    await forms.save();
    await page.getByText('Household name is required.').waitFor();
    await page.getByText('Number of people must be a whole number.').waitFor();
    await shoot(page, 'app-form-errors');
    await page.getByLabel('Household name').fill('App Form Household');
    await page.getByRole('radio', { name: 'Hilltop' }).check();
    await page.getByLabel('Number of people').fill('5');
    await forms.save();
    await forms.saved().waitFor();
    await page.getByRole('link', { name: 'Open the case' }).click();
    const detail = new CaseDetailPage(page);
    await page.getByRole('heading', { level: 1, name: 'App Form Household' }).waitFor();
    expect(await detail.properties()).toMatchObject({ village: 'hilltop', household_size: '5' });
    const householdId = (await page.locator('dt:text-is("Case ID") + dd').textContent()) ?? '';

    // A member under it.
    await shell.go('Forms');
    await forms.open('Register member');
    await forms.pickCase('App Form Household', 'Find the parent case');
    await page.getByLabel('Name').fill('App Form Member');
    await page.getByLabel('Age').fill('34');
    await page.getByRole('radio', { name: 'Female' }).check();
    await forms.save();
    await forms.saved().waitFor();
    await page.getByRole('link', { name: 'Open the case' }).click();
    await page.getByRole('heading', { level: 1, name: 'App Form Member' }).waitFor();
    expect(await page.getByRole('link', { name: 'App Form Household' }).count()).toBe(1);

    // A follow-up visit on the household.
    await shell.go('Forms');
    await forms.open('Follow up');
    await forms.pickCase('App Form Household');
    await page.getByLabel('Visit number').fill('2');
    await page.getByLabel('Notes').fill('All well');
    await forms.save();
    await forms.saved().waitFor();

    // Close it, via an incomplete form saved and resumed from the Outbox.
    await shell.waitForUnsent(0, 30_000);
    await shell.go('Forms');
    await forms.open('Close household');
    await forms.pickCase('App Form Household');
    await page.getByRole('radio', { name: 'Duplicate' }).check();
    await page.getByRole('button', { name: 'Save incomplete' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as incomplete' }).waitFor();
    expect(await shell.unsentCount()).toBe(0);
    await shell.go('Outbox');
    const draftRow = page.locator('ol.outbox > li[data-state="incomplete"]');
    expect(await draftRow.locator('.badge').textContent()).toBe('Incomplete');
    await draftRow.getByRole('link', { name: /^Resume form/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Close household' }).waitFor();
    await page.getByText('Case: App Form Household').waitFor();
    await page.waitForFunction(
      () =>
        (document.querySelector('input[type=radio][value=duplicate]') as HTMLInputElement | null)?.checked ===
        true,
    );
    await forms.save();
    await forms.saved().waitFor();
    await shell.go('Outbox');
    expect(await page.locator('ol.outbox > li[data-state="incomplete"]').count()).toBe(0);

    await shell.waitForUnsent(0, 30_000);
    const cases = new CaseRepo(emu.app.db);
    const household = cases.get(householdId);
    expect(household?.properties).toMatchObject({
      village: 'hilltop',
      household_size: '5',
      visit_count: '2',
    });
    expect(household?.properties.last_visit_notes).toBe('All well');
    expect(household?.closed).toBe(true);
    expect(household?.properties.close_reason).toBe('duplicate');
    const member = emu.app.db.prepare('SELECT case_id FROM cases WHERE name = ?').get('App Form Member') as
      | { case_id: string }
      | undefined;
    expect(cases.get(member?.case_id ?? '')?.indices).toEqual([
      expect.objectContaining({ identifier: 'parent', caseId: householdId, caseType: 'household' }),
    ]);
    const received = emu.app.db
      .prepare(
        "SELECT xmlns FROM forms WHERE domain = 'demo' AND xmlns LIKE 'http://fieldsim.dev/demo/%' ORDER BY seq",
      )
      .all() as { xmlns: string }[];
    expect(received.map((r) => r.xmlns)).toEqual([
      DEMO_XMLNS.registerHousehold,
      DEMO_XMLNS.registerMember,
      DEMO_XMLNS.followUp,
      DEMO_XMLNS.closeHousehold,
    ]);

    // The application stays available offline.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await context.setOffline(true);
    await page.reload();
    await new LockScreen(page).unlock('fieldsim');
    await shell.go('Forms');
    expect(await page.getByRole('link', { name: /^Register member/ }).count()).toBe(1);
    await context.setOffline(false);
  });
});
