import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenRosaTestServer, startOpenRosaServer } from '../helpers/openrosa-server.ts';
import { closeApp, DIST, type Emu, openApp } from './app-harness.ts';
import { axeScreen } from './axe-check.ts';

/**
 * Issue 14 part 6: the PWA's "Generic OpenRosa server" login against an ODK Central-like
 * server: form list, XForm download, fill with the core engine, submit through the
 * outbox. The PWA is served from the server's own origin under its real CSP
 * (`connect-src 'self'`), the same-origin deployment docs/pwa.md describes.
 */

const HOUSEHOLD = readFileSync(new URL('../fixtures/openrosa/household.xml', import.meta.url), 'utf8');

describe('generic OpenRosa server in the PWA', () => {
  let emu: Emu;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let server: OpenRosaTestServer;

  beforeAll(async () => {
    ({ emu, browser, context, page } = await openApp());
    server = await startOpenRosaServer({
      forms: [{ formId: 'household', xml: HOUSEHOLD }],
      users: { 'collector@example.org': 'secret' },
      staticDir: DIST,
    });
  });
  afterAll(async () => {
    await closeApp({ emu, browser, context });
    await server?.close();
  });

  it('logs in, lists the forms, fills one and sends it: X-OpenRosa-Version 1.0, deviceID on the URL', async () => {
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Generic OpenRosa server' }).click();
    await page.getByRole('heading', { level: 1, name: 'Generic OpenRosa server' }).waitFor();

    // A wrong password is refused at the form list, with the server's reason.
    await page.getByLabel('Server URL').fill(server.projectUrl);
    await page.getByLabel('Username').fill('collector@example.org');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('alert').waitFor();

    await page.getByLabel('Password', { exact: true }).fill('secret');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('heading', { level: 1, name: 'Forms' }).waitFor();
    await page.getByRole('button', { name: 'Household survey' }).click();

    const form = page.getByRole('form', { name: 'Household survey' });
    await form.getByLabel('Name of the head of household').fill('Amina Okafor');
    await form.getByLabel('How many members?').fill('40');
    await form.getByLabel('How many members?').blur();
    await form.getByText('Between 1 and 29').waitFor();
    await form.getByLabel('How many members?').fill('4');
    await form.getByLabel('How many members?').blur();
    await form.getByLabel('No').check();
    await form.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('status').filter({ hasText: 'Sent to the server' }).waitFor({ timeout: 20_000 });

    expect(server.submissions).toHaveLength(1);
    const [sub] = server.submissions;
    expect(sub?.xml).toContain('<head_name>Amina Okafor</head_name>');
    expect(sub?.xml).toContain('<members>4</members>');
    expect(sub?.instanceId).toMatch(/^uuid:/);
    expect(sub?.deviceId).toMatch(/^fieldsim:/);
    expect(sub?.actor).toBe('basic:collector@example.org');
    expect(server.requests.filter((r) => r.method !== 'OPTIONS').every((r) => r.version === '1.0')).toBe(
      true,
    );
    expect(await page.getByRole('status', { name: 'Outbox' }).textContent()).toContain('Sent: 1');
  });

  it('passes axe (WCAG A/AA, both themes, 360 and 1280 px) on the login error, form list and form', async () => {
    // axe is injected as a script, which the app's CSP forbids: a context that bypasses it.
    const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    try {
      const p = await ctx.newPage();
      await p.goto(server.url);
      await p.getByRole('button', { name: 'Generic OpenRosa server' }).click();
      await p.getByLabel('Server URL').fill(server.projectUrl);
      await p.getByLabel('Username').fill('collector@example.org');
      await p.getByLabel('Password', { exact: true }).fill('wrong');
      await p.getByRole('button', { name: 'Connect' }).click();
      await p.getByRole('alert').waitFor();
      const failures = await axeScreen(p, 'openrosa login error');
      await p.getByLabel('Password', { exact: true }).fill('secret');
      await p.getByRole('button', { name: 'Connect' }).click();
      await p.getByRole('heading', { level: 1, name: 'Forms' }).waitFor();
      failures.push(...(await axeScreen(p, 'openrosa form list')));
      await p.getByRole('button', { name: 'Household survey' }).click();
      const form = p.getByRole('form', { name: 'Household survey' });
      await form.getByLabel('How many members?').fill('40');
      await form.getByLabel('How many members?').blur();
      await form.getByText('Between 1 and 29').waitFor();
      failures.push(...(await axeScreen(p, 'openrosa form with an error')));
      expect(failures).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
