import type { Page } from 'playwright-core';

/**
 * The `Apps` screen and an installed CommCare app running in the PWA: menus and forms as
 * links, the case list (`Search cases`, a link per case), the case's details (`Continue`),
 * and form entry (`Submit`, `Save incomplete`).
 */
export class InstalledAppPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  /** The installed app's card on the Apps screen (its link and its version line). */
  appCard(name: string) {
    return this.page
      .getByRole('list', { name: 'Installed apps' })
      .getByRole('listitem')
      .filter({ hasText: name });
  }

  async openApp(name: string): Promise<void> {
    await this.appCard(name).getByRole('link', { name }).click();
    await this.page.getByRole('heading', { level: 1, name }).waitFor();
  }

  /** Chooses a menu or a form by its text and waits for the next screen's title. */
  async choose(text: string, title = text): Promise<void> {
    await this.page.getByRole('main').getByRole('link', { name: text, exact: true }).click();
    await this.page.getByRole('heading', { level: 1, name: title }).waitFor();
  }

  /** Picks a case in the case list (searching for it first), confirms its details. */
  async pickCase(name: string): Promise<void> {
    await this.page.getByLabel('Search cases').fill(name);
    await this.page.getByRole('table').getByRole('link', { name, exact: true }).click();
    await this.page.getByRole('heading', { name: 'Case details' }).waitFor();
    await this.page.getByRole('button', { name: 'Continue' }).click();
  }

  /** A question's input by its exact label. */
  field(label: string) {
    return this.page.getByLabel(label, { exact: true });
  }

  async submit(): Promise<void> {
    await this.page.getByRole('button', { name: 'Submit', exact: true }).click();
  }

  saved() {
    return this.page.getByRole('heading', { name: 'Form saved' });
  }

  async saveIncomplete(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save incomplete' }).click();
    await this.page.getByRole('status').filter({ hasText: 'Saved as incomplete' }).waitFor();
  }

  async chooseLanguage(code: string): Promise<void> {
    await this.page.getByLabel('Language', { exact: true }).selectOption(code);
  }
}
