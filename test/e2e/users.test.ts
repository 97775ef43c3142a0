import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { shoot } from '../helpers/page-objects/screenshot.ts';
import { type Emu, useApp } from './app-harness.ts';

/**
 * Issue 6, Login: offline login against the stored verifier, several users on one device
 * with their own data, logout keeping unsent forms until that user's next login, and
 * "clear this user's data". Plus the Diagnostics HTTP log, which must never show secrets.
 */

describe('users on one device', () => {
  let emu: Emu;
  let context: BrowserContext;
  let page: Page;
  let login: LoginPage;
  let shell: AppShell;

  useApp({}, (app) => {
    ({ emu, context, page } = app);
  });
  beforeAll(async () => {
    login = new LoginPage(page);
    shell = new AppShell(page);
  });

  async function logInAndWait(username: string, password = 'fieldsim'): Promise<void> {
    await login.logIn(username, password);
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
  }

  async function logOut(): Promise<void> {
    await shell.logOutButton().click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  }

  it('logs in offline with the stored verifier and rejects a wrong password', async () => {
    await login.open(emu.url);
    await logInAndWait('worker1');
    await shell.go('Cases');
    const online = await new CaseListPage(page).count();
    await logOut();

    await context.setOffline(true);
    await login.logIn('worker1', 'not-the-password');
    await page
      .getByRole('alert')
      .filter({ hasText: /wrong password/i })
      .waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);

    await login.logIn('worker1', 'fieldsim');
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await shell.go('Cases');
    expect(await new CaseListPage(page).count()).toBe(online);
    // The password was verified locally, so sending is not locked.
    expect(await shell.unlockForm().count()).toBe(0);

    // A user who never logged in on this device cannot log in offline.
    await logOut();
    await login.logIn('worker2', 'fieldsim');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    await context.setOffline(false);
  });

  it('keeps unsent forms through logout and another user, and sends them at the next login', async () => {
    await logInAndWait('worker1');
    await context.setOffline(true);
    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Kept Through Logout', 'Eldoret', '2');
    await shell.waitForUnsent(1);

    await shell.logOutButton().click();
    const confirm = page.getByRole('alertdialog');
    await confirm.filter({ hasText: '1 form not sent' }).waitFor();
    await shoot(page, 'logout-confirm');
    await confirm.getByRole('button', { name: 'Log out anyway' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await context.setOffline(false);

    // worker2 has a database of their own: none of worker1's forms or new cases.
    await logInAndWait('worker2@demo.commcarehq.org');
    expect(await shell.unsentCount()).toBe(0);
    await shell.go('Cases');
    const list = new CaseListPage(page);
    await list.search('Kept Through');
    expect(await list.count()).toBe(0);
    await logOut();
    expect(
      emu.app.db.prepare('SELECT count(*) AS n FROM cases WHERE name = ?').get('Kept Through Logout'),
    ).toEqual({ n: 0 });

    // worker1 again: the waiting form goes out at login.
    await logInAndWait('worker1');
    await shell.waitForUnsent(0, 30_000);
    expect(
      emu.app.db.prepare('SELECT count(*) AS n FROM cases WHERE name = ?').get('Kept Through Logout'),
    ).toEqual({ n: 1 });
  });

  it('logs HTTP requests in Diagnostics and exports a support snapshot, both without credentials', async () => {
    await shell.go('Diagnostics');
    const log = page.getByRole('table', { name: 'HTTP log' });
    await log.waitFor();
    const logText = (await log.textContent()) ?? '';
    expect(logText).toContain('/a/demo/receiver/');
    expect(logText).toContain('/a/demo/phone/restore/');
    expect(logText).toContain('201');
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).not.toContain('fieldsim@');
    expect(body.toLowerCase()).not.toContain('authorization');
    expect(body).not.toContain('Basic ');
    await shoot(page, 'diagnostics');

    // The support export: the data and the outbox, never the password or its verifier.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export database' }).click(),
    ]);
    const text = await streamText(await download.createReadStream());
    const dump = JSON.parse(text) as {
      format: string;
      session: { username: string };
      cases: { caseName: string }[];
      outbox: { state: string; xml: string | null }[];
    };
    expect(dump.format).toBe('fieldsim-support-export');
    expect(dump.session.username).toBe('worker1@demo.commcarehq.org');
    expect(dump.cases.map((c) => c.caseName)).toContain('Kept Through Logout');
    expect(dump.outbox.some((f) => f.state === 'sent' && f.xml?.includes('Kept Through Logout'))).toBe(true);
    expect(text.toLowerCase()).not.toMatch(/verifier|salt|password|authorization/);
  });

  it("clears this user's data after asking, refusing while forms are unsent until exported; the export imports back", async () => {
    await context.setOffline(true);
    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Unsent At Clear', 'Nakuru', '3');
    await shell.go('Diagnostics');
    await page.getByRole('button', { name: "Clear this user's data…" }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'not been sent' });
    await refusal.waitFor();
    expect(await page.getByRole('button', { name: "Delete this user's data" }).count()).toBe(0);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      refusal.getByRole('button', { name: 'Export unsent forms' }).click(),
    ]);
    const exportFile = join(mkdtempSync(join(tmpdir(), 'fieldsim-export-')), 'outbox.json');
    await download.saveAs(exportFile);
    // Encrypted with the password by default (docs/pwa.md): the form's content is not in it.
    const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as { format: string };
    expect(exported.format).toBe('fieldsim-encrypted-export');
    expect(readFileSync(exportFile, 'utf8')).not.toContain('Unsent At Clear');
    expect(readFileSync(exportFile, 'utf8')).not.toContain('Nakuru');
    const confirm = page.getByRole('alertdialog', { name: 'Confirm clearing data' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: "Delete this user's data" }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();

    // Gone from this device: an offline login for worker1 now has nothing to open.
    await login.logIn('worker1', 'fieldsim');
    await page
      .getByRole('alert')
      .filter({ hasText: /no data/i })
      .waitFor();
    await context.setOffline(false);

    // The exported file brings the form back on a fresh login, and it is delivered.
    await logInAndWait('worker1');
    await shell.go('Outbox');
    await page.getByLabel('Import forms').setInputFiles(exportFile);
    await page.getByRole('status').filter({ hasText: 'Imported 1 form' }).waitFor();
    await shell.waitForUnsent(0, 30_000);
    expect(
      emu.app.db.prepare('SELECT count(*) AS n FROM cases WHERE name = ?').get('Unsent At Clear'),
    ).toEqual({
      n: 1,
    });
  });

  it('exports unsent forms in plain JSON only when "Plain export (not encrypted)" is ticked', async () => {
    await context.setOffline(true);
    await shell.go('Forms');
    await new FormsPage(page).registerHousehold('Plain Export Form', 'Lakeview', '2');
    await shell.go('Outbox');
    const plain = page.getByLabel('Plain export (not encrypted)');
    expect(await plain.isChecked()).toBe(false);
    await plain.check();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export unsent forms' }).click(),
    ]);
    const text = await streamText(await download.createReadStream());
    expect((JSON.parse(text) as { format: string }).format).toBe('fieldsim-outbox');
    expect(text).toContain('Plain Export Form');
    await plain.uncheck();
    await context.setOffline(false);
    await shell.waitForUnsent(0, 30_000);
  });
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}
