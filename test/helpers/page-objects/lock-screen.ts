import type { Page } from 'playwright-core';

/** The lock screen a reload shows when the worker's data is encrypted (docs/pwa.md). */
export class LockScreen {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  form() {
    return this.page.getByRole('form', { name: 'Unlock' });
  }

  /** Types the password and waits for the app (navigation) behind the lock screen. */
  async unlock(password: string): Promise<void> {
    await this.form().getByLabel('Password').fill(password);
    await this.form().getByRole('button', { name: 'Unlock' }).click();
    await this.page.getByRole('navigation', { name: 'Main' }).waitFor();
  }
}
