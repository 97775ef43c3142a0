import type { Page } from 'playwright-core';
import { SAVED } from './save-outcome.ts';

export class FormsPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  async registerHousehold(name: string, village: string, size: string): Promise<void> {
    await this.page.getByRole('link', { name: /Register a household/ }).click();
    await this.page.getByLabel('Household name').fill(name);
    await this.page.getByLabel('Village').fill(village);
    await this.page.getByLabel('Household size').fill(size);
    await this.page.getByRole('button', { name: 'Save form' }).click();
    await this.page.getByRole('status').filter({ hasText: SAVED }).waitFor();
  }
}
