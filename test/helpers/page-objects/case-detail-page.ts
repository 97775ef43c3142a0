import type { Page } from 'playwright-core';
import { SAVED } from './save-outcome.ts';

export class CaseDetailPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  title() {
    return this.page.getByRole('heading', { level: 1 });
  }

  status() {
    return this.page.locator('main .badge').first();
  }

  /** Properties as shown (dt → dd text). */
  async properties(): Promise<Record<string, string>> {
    return this.page.$$eval('dl[aria-label="Properties"] dt', (dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent ?? '', dt.nextElementSibling?.textContent ?? ''])),
    );
  }

  async updateProperty(property: string, value: string): Promise<void> {
    await this.page.getByRole('link', { name: 'Update a property' }).click();
    await this.page.getByLabel('Property').fill(property);
    await this.page.getByLabel('New value').fill(value);
    await this.page.getByRole('button', { name: 'Save form' }).click();
    await this.page.getByRole('status').filter({ hasText: SAVED }).waitFor();
  }

  async close(reason: string): Promise<void> {
    await this.page.getByRole('link', { name: 'Close case' }).click();
    await this.page.getByLabel('Reason for closing').fill(reason);
    await this.page.getByRole('button', { name: 'Close case' }).click();
    await this.page.getByRole('heading', { level: 2, name: 'Properties' }).waitFor();
  }
}
