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

  /** Opens the app, logs in and waits for Home: the start of most end-to-end stories. */
  async logInToHome(baseUrl: string, username: string, password: string, loginAs = ''): Promise<void> {
    await this.open(baseUrl);
    await this.logIn(username, password, loginAs);
    await this.page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
  }

  /**
   * The workers offered for `Log in as` once a web user's email and password are typed and
   * the field is reached (values of its suggestion list).
   */
  async workerSuggestions(webUser: string, password: string): Promise<string[]> {
    await this.page.getByLabel('Username').fill(webUser);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    const field = this.page.getByLabel('Log in as');
    await field.focus();
    const list = `#${await field.getAttribute('list')}`;
    await this.page.waitForFunction((sel) => (document.querySelector(sel)?.children.length ?? 0) > 0, list);
    return this.page.$$eval(`${list} option`, (os) => os.map((o) => (o as HTMLOptionElement).value));
  }

  error() {
    return this.page.getByRole('alert');
  }
}
