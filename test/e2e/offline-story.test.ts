import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GENERIC_XMLNS } from '../../src/core/protocol/submission/generic-forms.ts';
import { CaseRepo } from '../../src/server/db/cases.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseDetailPage } from '../helpers/page-objects/case-detail-page.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { OutboxPage } from '../helpers/page-objects/outbox-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 2's offline story, in a real Chromium against the emulator serving the built PWA:
 * log in, go offline, save three forms, reload offline (service worker), come back online
 * and watch the outbox drain in order, then check the emulator holds the changes.
 */

describe('offline story (issue 2)', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;

  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });

  it('saves offline, survives an offline reload, and drains in order when back online', async () => {
    const login = new LoginPage(page);
    const shell = new AppShell(page);
    const list = new CaseListPage(page);
    const detail = new CaseDetailPage(page);
    const outbox = new OutboxPage(page);

    // 1. Log in (full username form) and see the restored cases with a count.
    await login.open(emu.url);
    await shoot(page, 'login');
    await login.logIn('worker1@demo.commcarehq.org', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await shell.go('Cases');
    const restored = await list.count();
    expect(restored).toBeGreaterThan(0);
    const rows = await list.visibleRows();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.type === 'household' || r.type === 'member')).toBe(true);
    await list.filterType('household');
    const households = await list.count();
    expect(households).toBeGreaterThan(0);
    expect(households).toBeLessThan(restored);
    expect((await list.visibleRows()).every((r) => r.type === 'household')).toBe(true);
    await list.filterType('');
    await shoot(page, 'cases');
    expect(await shell.unsentCount()).toBe(0);

    // The service worker must be active before the offline reload can be served by it.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });

    // 2. Go offline and save three forms.
    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: 'Offline' }).waitFor();

    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Offline Household E2E', 'Kisumu', '4');

    await shell.go('Cases');
    await list.filterType('household');
    const [first, second] = (await list.visibleRows()).filter((r) => r.status === 'open');
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    const updatedName = first!.name;
    const closedName = second!.name;

    await list.search(updatedName);
    await list.openCase(updatedName);
    const updatedId = (await page.locator('dt:text-is("Case ID") + dd').textContent()) ?? '';
    await detail.updateProperty('phone_number', '+254 700 000 001');
    await page.getByRole('link', { name: 'Open the case' }).click();
    await page.getByRole('heading', { level: 2, name: 'Properties' }).waitFor();
    expect((await detail.properties()).phone_number).toBe('+254 700 000 001');
    await shoot(page, 'case-detail');

    await shell.go('Cases');
    await list.search(closedName);
    await list.openCase(closedName);
    const closedId = (await page.locator('dt:text-is("Case ID") + dd').textContent()) ?? '';
    await detail.close('moved away');
    expect(await detail.status().textContent()).toBe('closed');

    // 3. The outbox shows all three as waiting, in order.
    await shell.waitForUnsent(3);
    await shell.go('Outbox');
    let shown = await outbox.rows();
    expect(shown.map((r) => r.state)).toEqual(['Waiting to send', 'Waiting to send', 'Waiting to send']);
    expect(shown.map((r) => r.seq)).toEqual([...shown.map((r) => r.seq)].sort((a, b) => a - b));
    expect(shown[0]?.title).toContain('Offline Household E2E');
    expect(shown[1]?.title).toContain(updatedName);
    expect(shown[2]?.title).toContain(closedName);
    await shoot(page, 'outbox-offline');

    // 4. Reload while offline: the service worker serves the app and the data is encrypted
    // at rest, so the lock screen comes first, interactive within the 1 s budget (issue 6),
    // timed from navigation start; the password (checked locally) opens Home, data intact.
    await shell.go('Home');
    await page.reload();
    const lock = new LockScreen(page);
    await lock.form().getByLabel('Password').waitFor();
    const offlineStartMs = await page.evaluate(() => performance.now());
    console.log(`offline start to interactive lock screen: ${Math.round(offlineStartMs)} ms`);
    expect(offlineStartMs).toBeLessThanOrEqual(1000);
    await shoot(page, 'unlock');
    const unlockStart = Date.now();
    await lock.unlock('fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    console.log(`offline unlock to Home: ${Date.now() - unlockStart} ms`);
    await shell.waitForUnsent(3);
    await shell.go('Cases');
    // Open cases (the list's default): one closed above, one registered.
    expect(await list.count()).toBe(restored);
    await list.search('Offline Household E2E');
    expect((await list.visibleRows()).map((r) => r.name)).toEqual(['Offline Household E2E']);
    await shell.go('Outbox');
    shown = await outbox.rows();
    expect(shown.map((r) => r.state)).toEqual(['Waiting to send', 'Waiting to send', 'Waiting to send']);
    // The password typed at the lock screen (memory only) also allows sending.
    expect(await shell.unlockForm().count()).toBe(0);
    await shoot(page, 'outbox-offline-reload');

    // 5. Back online: the `online` event drains the outbox in order, no reload.
    await context.setOffline(false);
    await shell.waitForUnsent(0, 60_000);
    await page.getByRole('heading', { level: 2, name: /^Sent/ }).waitFor();
    shown = await outbox.rows();
    expect(shown.map((r) => r.state)).toEqual(['Sent', 'Sent', 'Sent']);
    await shoot(page, 'outbox-sent');

    // 6. The emulator holds the changes, received in the order they were saved.
    const cases = new CaseRepo(emu.app.db);
    const household = emu.app.db
      .prepare('SELECT case_id FROM cases WHERE domain = ? AND name = ?')
      .all('demo', 'Offline Household E2E') as { case_id: string }[];
    expect(household).toHaveLength(1);
    const created = cases.get(household[0]!.case_id);
    expect(created?.caseType).toBe('household');
    expect(created?.properties.village).toBe('Kisumu');
    expect(created?.properties.household_size).toBe('4');
    expect(cases.get(updatedId)?.properties.phone_number).toBe('+254 700 000 001');
    const closed = cases.get(closedId);
    expect(closed?.closed).toBe(true);
    expect(closed?.properties.close_reason).toBe('moved away');
    const received = emu.app.db
      .prepare("SELECT xmlns, state FROM forms WHERE domain = 'demo' AND xmlns LIKE ? ORDER BY seq")
      .all('http://fieldsim.org/forms/generic/%') as { xmlns: string; state: string }[];
    expect(received.map((f) => f.xmlns)).toEqual([
      GENERIC_XMLNS.register,
      GENERIC_XMLNS.update,
      GENERIC_XMLNS.close,
    ]);
  });
});
