import type { Page } from 'playwright-core';

/** The login screen: inputs `Username`, `Password` and the optional `Log in as`, button `Log in`. */
export class LoginPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  async open(baseUrl: string): Promise<void> {
    await this.page.goto(baseUrl);
    await this.page.getByLabel('Username').waitFor();
  }

  /** `loginAs`: a web user opens the app as this mobile worker (Web Apps' login as). */
  async logIn(username: string, password: string, loginAs = ''): Promise<void> {
    await this.page.getByLabel('Username').fill(username);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByLabel('Log in as').fill(loginAs);
    await this.page.getByRole('button', { name: 'Log in' }).click();
  }

  error() {
    return this.page.getByRole('alert');
  }
}
