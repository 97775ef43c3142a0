import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseDetailPage } from '../helpers/page-objects/case-detail-page.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { useApp } from './app-harness.ts';

/**
 * Issue 13, the case list: search over names and properties (substring, any case), owners
 * by name, open cases by default (closed ones behind the Status filter), and pickers that
 * say when they show only part of the matches.
 */
describe('case list search, owners, status and pickers', () => {
  let page: Page;
  let shell: AppShell;
  let list: CaseListPage;

  useApp({ login: 'worker1' }, (app) => {
    ({ page } = app);
  });
  beforeAll(async () => {
    shell = new AppShell(page);
    list = new CaseListPage(page);
  });

  it('searches a part of the name or of a property, ignoring case', async () => {
    await shell.go('Cases');
    // "Riverside" is a village (a property), in no case's name.
    await list.search('riVERs');
    const byVillage = await list.visibleRows();
    expect(byVillage.length).toBeGreaterThan(0);
    expect(byVillage.every((r) => r.type === 'household' && !/rivers/i.test(r.name))).toBe(true);
    await list.openCase(byVillage[0]!.name);
    expect((await new CaseDetailPage(page).properties()).village).toBe('Riverside');

    await shell.go('Cases');
    // The middle of a name: every household is "<Surname> household".
    await list.search('OUSEHO');
    const byName = await list.visibleRows();
    expect(byName.length).toBeGreaterThan(0);
    expect(byName.every((r) => r.name.toLowerCase().includes('househo'))).toBe(true);
    await list.search('no such text anywhere');
    expect(await list.count()).toBe(0);
  });

  it("shows the owner's name, not its id", async () => {
    await shell.go('Cases');
    await list.search('');
    await list.filterType('household');
    const [first] = await list.visibleRows();
    await list.openCase(first!.name);
    // Owner names come from the restore's fixtures after the first render: wait for them.
    const owner = page.locator('dt:text-is("Owner") + dd');
    await expect.poll(() => owner.textContent(), { timeout: 10_000 }).toMatch(/^worker1 \([0-9a-f]{32}\)$/);
    await shell.go('Cases');
    const ownerFilter = page.getByLabel('Owner');
    await expect
      .poll(() => ownerFilter.locator('option').allTextContents(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['Mine (worker1)', 'Demo field team']));
  });

  it('lists open cases by default; closed ones are behind the Status filter', async () => {
    await shell.go('Cases');
    await list.search('');
    await list.filterType('');
    const open = await list.count();
    await list.filterType('household');
    const [target] = await list.visibleRows();
    await list.openCase(target!.name);
    await new CaseDetailPage(page).close('moved away');
    await shell.go('Cases');
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="case-count"]')?.textContent?.trim() === `${n} cases`,
      open - 1,
    );
    expect(await page.getByLabel('Status').inputValue()).toBe('open');
    await list.search(target!.name);
    expect((await list.visibleRows()).map((r) => r.name)).not.toContain(target!.name);
    await list.filterStatus('closed');
    await page.waitForFunction(
      (name) =>
        [...document.querySelectorAll('[data-testid="case-list"] li .name')].some(
          (n) => n.textContent === name,
        ),
      target!.name,
    );
    expect((await list.visibleRows()).every((r) => r.status === 'closed')).toBe(true);
  });

  it('a picker says how many cases match when it shows only the first 20', async () => {
    await shell.go('Forms');
    await page.getByRole('link', { name: /Update a case/ }).click();
    const hint = page.getByRole('status').filter({ hasText: /^Showing 20 of \d+ cases/ });
    await hint.waitFor();
    const total = Number(/of (\d+)/.exec((await hint.textContent()) ?? '')?.[1]);
    expect(total).toBeGreaterThan(20);
    expect(await page.getByRole('list', { name: 'Matching cases' }).getByRole('listitem').count()).toBe(20);
    await page.getByLabel('Find a case').fill('Riverside');
    await page.waitForFunction(
      () => !/^Showing/.test(document.querySelector('.picker [role="status"]')?.textContent ?? ''),
    );
    const items = await page.getByRole('list', { name: 'Matching cases' }).getByRole('listitem').count();
    expect(items).toBeGreaterThan(0);
    expect(items).toBeLessThan(20);
  });
});
