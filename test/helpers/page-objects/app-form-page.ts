import type { Page } from 'playwright-core';
import { SAVED } from './save-outcome.ts';

/** Application forms (Application Structure API) on the Forms screen and the form runner. */
export class AppFormPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  async loadApplication(webUser: string, secret: string, apiKey: boolean): Promise<void> {
    await this.page.getByLabel('Web user', { exact: true }).fill(webUser);
    await this.page.getByLabel('Web user secret').fill(secret);
    if (apiKey) await this.page.getByLabel('The secret is an API key').check();
    await this.page.getByRole('button', { name: 'Load application' }).click();
  }

  async open(formName: string): Promise<void> {
    await this.page.getByRole('link', { name: new RegExp(`^${formName}`) }).click();
    await this.page.getByRole('heading', { level: 1, name: formName }).waitFor();
  }

  async pickCase(name: string, label = 'Find a case'): Promise<void> {
    await this.page.getByLabel(label).fill(name);
    await this.page
      .getByRole('list', { name: 'Matching cases' })
      .getByRole('button', { name: new RegExp(`^${name}`) })
      .first()
      .click();
  }

  async save(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save form' }).click();
  }

  saved() {
    return this.page.getByRole('status').filter({ hasText: SAVED });
  }
}
