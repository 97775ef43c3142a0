import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HqClient } from '../../src/core/http/hq-client.ts';
import { composeForm, xsdDateTime } from '../../src/core/protocol/submission/compose-form.ts';
import { registerCaseForm } from '../../src/core/protocol/submission/generic-forms.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseDetailPage } from '../helpers/page-objects/case-detail-page.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { startEmulator } from '../helpers/start-emulator.ts';
import { launchChromium } from '../helpers/with-chromium.ts';
import { ensureBuild } from './ensure-build.ts';

/**
 * Every server- or case-supplied string is text (issue 6, Safety): a case whose name and
 * properties carry HTML/script payloads shows them literally and runs nothing.
 */
const DIST = join(import.meta.dirname, '..', '..', 'dist');
const NAME = '<img src=x onerror="window.__xss=1">';
const PAYLOADS: Record<string, string> = {
  note: '<script>window.__xss=2</script>',
  comment: '"><svg onload="window.__xss=3">',
  link: 'javascript:window.__xss=4',
};

describe('untrusted strings render as text', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    ensureBuild();
    emu = await startEmulator({ staticDir: DIST });
    // The hostile case arrives the way any case does: a form submitted to HQ.
    const hq = new HqClient({
      serverUrl: emu.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      deviceId: 'xss-seed',
    });
    const user = await hq.login();
    const now = xsdDateTime(Date.now());
    const form = composeForm({
      ...registerCaseForm({
        caseId: randomUUID(),
        caseType: 'household',
        caseName: NAME,
        properties: PAYLOADS,
      }),
      meta: {
        deviceId: 'xss-seed',
        timeStart: now,
        timeEnd: now,
        username: 'worker1',
        userId: user.id,
        instanceId: randomUUID(),
      },
    });
    const outcome = await hq.submit({ xml: form.xml });
    expect(outcome.status).toBe('accepted');

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await emu?.close();
  });

  it('shows HTML in case names and properties literally and executes none of it', async () => {
    // The emulator serves the app with a Content-Security-Policy, and the app breaks none of it.
    const violations: string[] = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(emu.url);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await new LoginPage(page).open(emu.url);
    await new LoginPage(page).logIn('worker1', 'fieldsim');
    const shell = new AppShell(page);
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await shell.go('Cases');
    const list = new CaseListPage(page);
    await list.search('<img');
    expect((await list.visibleRows()).map((r) => r.name)).toEqual([NAME]);
    await list.openCase(NAME);
    const detail = new CaseDetailPage(page);
    expect(await detail.title().textContent()).toBe(NAME);
    const props = await detail.properties();
    for (const [k, v] of Object.entries(PAYLOADS)) expect(props[k]).toBe(v);

    expect(await page.locator('img[src="x"], main script, main svg').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
  });
});
