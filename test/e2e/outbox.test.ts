import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../src/server/faults.ts';
import { AppFormPage } from '../helpers/page-objects/app-form-page.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { OutboxPage } from '../helpers/page-objects/outbox-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, Outbox: honest about every form. A server error keeps a form waiting with its
 * last error; a form set aside by hand lets the next one go; a form the server cannot
 * process is quarantined with the reason; Retry puts forms back in order.
 */

describe('outbox states and actions', () => {
  let emu: Emu;
  let page: Page;

  useApp({}, (app) => {
    ({ emu, page } = app);
  });

  it('shows waiting, set-aside and quarantined forms with reasons, and retries them in order', async () => {
    const shell = new AppShell(page);
    const outbox = new OutboxPage(page);
    await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');

    // A 500 from the server: the form waits, with the error, until a later attempt.
    emu.app.setFaults({ ...NO_FAULTS, error500: 1 });
    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Outbox Household', 'Kitale', '3');
    await shell.go('Outbox');
    const first = page.locator('ol.outbox > li').first();
    await first.locator('.note').filter({ hasText: 'Last error' }).waitFor({ timeout: 15_000 });
    expect((await outbox.rows())[0]?.state).toBe('Waiting to send');
    await page.getByRole('status').filter({ hasText: 'the next automatic attempt is at' }).waitFor();

    // Set it aside by hand, then register a member under that household: the server does not
    // have the household yet, so it cannot process the member's index (InvalidCaseIndex).
    await first.getByRole('button', { name: /^Set aside form/ }).click();
    await page.locator('ol.outbox > li[data-state="quarantined"]').waitFor();
    emu.app.setFaults({ ...NO_FAULTS });
    await shell.go('Forms');
    const forms = new AppFormPage(page);
    await forms.loadApplication('admin@example.com', 'fieldsim-demo-key', true);
    await forms.open('Register member');
    await forms.pickCase('Outbox Household', 'Find the parent case');
    await page.getByLabel('Name').fill('Outbox Member');
    await forms.save();
    await forms.saved().waitFor();
    await shell.go('Outbox');
    // After the 500s the outbox backs off; "Send now" does not wait for the next try.
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('ol.outbox > li[data-state="quarantined"]').length === 2,
      null,
      { timeout: 20_000 },
    );
    const rows = await outbox.rows();
    expect(rows.map((r) => r.state)).toEqual(['Quarantined', 'Quarantined']);
    expect(await page.getByText('Quarantined because it was set aside by hand.').count()).toBe(1);
    expect(await page.getByText(/Quarantined because the server could not process it/).count()).toBe(1);
    await shoot(page, 'outbox-quarantined');
    // Set-aside forms are not delivered: the header's unsent count includes them.
    await shell.waitForUnsent(2, 5_000);

    // Retry in order: the household first, then the member.
    const [registerSeq, updateSeq] = rows.map((r) => r.seq);
    await page.getByRole('button', { name: `Retry form ${registerSeq}` }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('ol.outbox > li[data-state="sent"]').length === 1,
      null,
      {
        timeout: 20_000,
      },
    );
    await page.getByRole('button', { name: `Retry form ${updateSeq}` }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('ol.outbox > li[data-state="sent"]').length === 2,
      null,
      {
        timeout: 20_000,
      },
    );
    await shell.waitForUnsent(0, 5_000);
    const household = emu.app.db
      .prepare("SELECT case_id FROM cases WHERE domain = 'demo' AND name = ?")
      .get('Outbox Household') as { case_id: string } | undefined;
    const member = emu.app.db
      .prepare("SELECT indices FROM cases WHERE domain = 'demo' AND name = ?")
      .get('Outbox Member') as { indices: string } | undefined;
    expect(household).toBeDefined();
    expect(JSON.parse(member?.indices ?? '[]')).toEqual([
      expect.objectContaining({ identifier: 'parent', caseId: household?.case_id }),
    ]);
  });
});
