import type { Page } from 'playwright-core';

export class CaseListPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  countText() {
    return this.page.getByRole('status', { name: 'Case count' });
  }

  /** The number in "N cases", once loaded. */
  async count(): Promise<number> {
    await this.page.waitForFunction(() =>
      /^\d+ cases?$/.test(document.querySelector('[data-testid="case-count"]')?.textContent?.trim() ?? ''),
    );
    const text = (await this.countText().textContent()) ?? '';
    return Number(text.trim().split(' ')[0]);
  }

  async filterType(caseType: string): Promise<void> {
    await this.page.getByLabel('Case type').selectOption(caseType === '' ? '' : caseType);
  }

  async filterStatus(status: 'all' | 'open' | 'closed'): Promise<void> {
    await this.page.getByLabel('Status').selectOption(status);
  }

  async search(text: string): Promise<void> {
    await this.page.getByLabel('Search by name').fill(text);
  }

  rows() {
    return this.page.getByRole('list', { name: 'Case list' }).getByRole('listitem');
  }

  async openCase(name: string): Promise<void> {
    await this.page
      .getByRole('list', { name: 'Case list' })
      .getByRole('link')
      .filter({ hasText: name })
      .first()
      .click();
    await this.page.getByRole('heading', { level: 2, name: 'Properties' }).waitFor();
  }

  /** Name, type and status of the rows rendered now. */
  async visibleRows(): Promise<{ name: string; type: string; status: string }[]> {
    return this.page.$$eval('[data-testid="case-list"] li a', (links) =>
      links.map((a) => ({
        name: a.querySelector('.name')?.textContent ?? '',
        type: a.querySelector('.type')?.textContent ?? '',
        status: a.querySelector('.badge')?.textContent ?? '',
      })),
    );
  }
}
