import type { Page } from 'playwright-core';

export type NavEntry = 'Home' | 'Cases' | 'Apps' | 'Forms' | 'Outbox' | 'Diagnostics';

/** What every screen after login has: navigation, `Sync`, `Log out`, the `Unsent forms` count. */
export class AppShell {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  async go(entry: NavEntry): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: entry, exact: true })
      .click();
    await this.page.getByRole('heading', { level: 1, name: entry }).waitFor();
  }

  unsentForms() {
    return this.page.getByLabel('Unsent forms');
  }

  async unsentCount(): Promise<number> {
    return Number((await this.unsentForms().textContent())?.trim());
  }

  /** Waits until the header's unsent count shows `n`. */
  async waitForUnsent(n: number, timeout = 30_000): Promise<void> {
    await this.page.waitForFunction(
      (expected) =>
        document.querySelector('[aria-label="Unsent forms"]')?.textContent?.trim() === String(expected),
      n,
      { timeout },
    );
  }

  syncButton() {
    return this.page.getByRole('button', { name: 'Sync', exact: true });
  }

  logOutButton() {
    return this.page.getByRole('button', { name: 'Log out' });
  }

  /** The band every screen shows in a "login as" session. */
  loginAsBanner() {
    return this.page.getByRole('region', { name: 'Login as' });
  }

  /** The "log in to send" state after an offline start. */
  unlockForm() {
    return this.page.getByRole('form', { name: 'Log in to send' });
  }

  async unlock(password: string): Promise<void> {
    await this.page.getByLabel('Password to send').fill(password);
    await this.page.getByRole('button', { name: 'Unlock sending' }).click();
    await this.unlockForm().waitFor({ state: 'detached' });
  }
}
