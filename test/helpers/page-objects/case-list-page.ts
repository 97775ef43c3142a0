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

  /** Selects a case type ('' for all) and waits until the rows show only that type. */
  async filterType(caseType: string): Promise<void> {
    await this.page.getByLabel('Case type').selectOption(caseType);
    await this.page.waitForFunction((t) => {
      const types = [...document.querySelectorAll('[data-testid="case-list"] li .type')].map(
        (n) => n.textContent ?? '',
      );
      return types.length > 0 && (t === '' || types.every((x) => x === t));
    }, caseType);
  }

  async filterStatus(status: 'all' | 'open' | 'closed'): Promise<void> {
    await this.page.getByLabel('Status').selectOption(status);
  }

  /**
   * Types into the search box (name and properties) and waits until the list shows the
   * results for that text (the list marks which query its rows answer).
   */
  async search(text: string): Promise<void> {
    await this.page.getByLabel('Search name and properties').fill(text);
    await this.page.waitForFunction((q) => {
      const list = document.querySelector('[data-testid="case-list"]');
      const count = document.querySelector('[data-testid="case-count"]')?.textContent?.trim() ?? '';
      return list?.getAttribute('data-query') === q.trim() && /^\d+ cases?$/.test(count);
    }, text);
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
