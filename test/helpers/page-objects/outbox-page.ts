import type { Page } from 'playwright-core';

export interface OutboxRow {
  seq: number;
  title: string;
  state: string;
}

export class OutboxPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  /** Every form shown, waiting ones first (in send order), then sent ones. */
  async rows(): Promise<OutboxRow[]> {
    return this.page.$$eval('ol.outbox > li', (lis) =>
      lis.map((li) => ({
        seq: Number((li.querySelector('.seq')?.textContent ?? '').replace('#', '')),
        title: li.querySelector('.title')?.textContent ?? '',
        state: li.querySelector('.head .badge')?.textContent ?? '',
      })),
    );
  }

  waitingList() {
    return this.page.getByRole('list', { name: 'Forms not sent' });
  }
}
