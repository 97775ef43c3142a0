import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { AppFormPage } from '../helpers/page-objects/app-form-page.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 13: Register member's parent picker offered every case type; it offers only the
 * type the form indexes as parent (households in the demo app).
 */
describe('parent picker', () => {
  let emu: Emu;
  let page: Page;

  useApp({}, (app) => {
    ({ emu, page } = app);
  });

  it("lists only the parent's case type in Register member", async () => {
    await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');
    await new AppShell(page).go('Forms');
    const forms = new AppFormPage(page);
    await forms.loadApplication('admin@example.com', 'fieldsim-demo-key', true);
    await forms.open('Register member');
    const list = page.getByRole('list', { name: 'Matching cases' });
    // Members are on the device too; none may be offered as a parent.
    await page.waitForFunction(() => {
      const items = [...document.querySelectorAll('ul[aria-label="Matching cases"] li')];
      return items.length > 0 && items.every((li) => li.textContent?.includes('· household'));
    });
    const texts = await list.getByRole('listitem').allTextContents();
    expect(texts.length).toBeGreaterThan(0);
    for (const t of texts) expect(t).toMatch(/· household$/);
    await page.getByLabel('Find the parent case').fill('a');
    await page.waitForTimeout(300);
    for (const t of await list.getByRole('listitem').allTextContents()) expect(t).toMatch(/· household$/);
  });
});
