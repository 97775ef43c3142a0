import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/find-chromium.ts';
import { launchChromium } from '../helpers/with-chromium.ts';
import { ensureBuild } from './ensure-build.ts';
import { type StaticServer, serveStatic } from './static-server.ts';

/**
 * The app shell on its own (no HQ needed): install criteria as Chromium itself judges them,
 * the precached shell opening offline, and the "update available" prompt after a deploy.
 */
const DIST = join(import.meta.dirname, '..', '..', 'dist');

interface Manifest {
  name: string;
  short_name: string;
  display: string;
  start_url: string;
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
}

function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Signature (8) + IHDR length/type (8): width and height follow, big-endian.
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

async function swReady(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
}

describe('app shell', () => {
  let browser: Browser;
  let server: StaticServer;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    ensureBuild();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    server = await serveStatic(DIST);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
    await server?.close();
  });

  it('meets the install criteria: manifest fields, icons, a service worker controlling the page', async () => {
    await page.goto(server.url);
    await page.getByLabel('Username').waitFor();
    const href = await page.getAttribute('link[rel="manifest"]', 'href');
    expect(href).toBe('/manifest.webmanifest');
    const res = await page.request.get(`${server.url}${href}`);
    expect(res.ok()).toBe(true);
    const manifest = (await res.json()) as Manifest;
    expect(manifest.name).toBe('fieldsim');
    expect(manifest.short_name).toBe('fieldsim');
    expect(manifest.display).toBe('standalone');
    expect(manifest.start_url).toBe('/');
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);
    for (const want of [
      { sizes: '192x192', purpose: 'any' },
      { sizes: '512x512', purpose: 'any' },
      { sizes: '512x512', purpose: 'maskable' },
    ]) {
      const icon = manifest.icons.find(
        (i) => i.sizes === want.sizes && (i.purpose ?? 'any') === want.purpose,
      );
      expect(icon, `${want.sizes} ${want.purpose}`).toBeDefined();
      const png = await page.request.get(`${server.url}${icon!.src}`);
      expect(png.headers()['content-type']).toBe('image/png');
      const [w, h] = want.sizes.split('x').map(Number);
      expect(pngSize(await png.body())).toEqual({ width: w, height: h });
    }

    await swReady(page);
    await page.reload();
    await page.getByLabel('Username').waitFor();
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.state)).toBe('activated');
  });

  it('is installable as Chromium itself judges it (persistent profile, not incognito)', async () => {
    // Browser contexts are incognito-like and never installable, so this one check runs in a
    // persistent profile.
    const profile = mkdtempSync(join(tmpdir(), 'fieldsim-profile-'));
    const persistent = await chromium.launchPersistentContext(profile, {
      executablePath: ensureChromium(() => {}),
      args: CHROMIUM_ARGS,
      headless: true,
    });
    try {
      const p = persistent.pages()[0] ?? (await persistent.newPage());
      await p.goto(server.url);
      await swReady(p);
      await p.reload();
      await p.getByLabel('Username').waitFor();
      const cdp = await persistent.newCDPSession(p);
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
        installabilityErrors: { errorId: string }[];
      };
      expect(installabilityErrors).toEqual([]);
    } finally {
      await persistent.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('runs under a strict Content-Security-Policy (no inline script or style needed)', async () => {
    const csp =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
      "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";
    const strict = await serveStatic(DIST, { 'content-security-policy': csp });
    const p = await context.newPage();
    const violations: string[] = [];
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await p.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    try {
      const res = await p.goto(strict.url);
      expect(res?.headers()['content-security-policy']).toBe(csp);
      await p.getByLabel('Username').waitFor();
      await p.getByLabel('Username').fill('someone');
      await swReady(p);
      expect(violations).toEqual([]);
    } finally {
      await p.close();
      await strict.close();
    }
  });

  it('opens the app shell offline from the precache', async () => {
    await page.goto(server.url);
    await swReady(page);
    await context.setOffline(true);
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.title()).toBe('Log in · fieldsim');
    // A deep link (hash route) also opens offline.
    await page.goto(`${server.url}/#/outbox`);
    await page.getByLabel('Password').waitFor();
  });

  it('shows "update available" after a deploy and reloads into the new version on request', async () => {
    await page.goto(server.url);
    await swReady(page);
    await page.reload();
    await page.getByLabel('Username').waitFor();
    const prompt = page.getByRole('alert').filter({ hasText: 'A new version of fieldsim is available' });
    expect(await prompt.count()).toBe(0);

    // "Deploy": a service worker whose bytes differ.
    const sw = readFileSync(join(DIST, 'sw.js'), 'utf8');
    server.override('/sw.js', `${sw}\n// deploy ${Date.now()}\n`);
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      await reg?.update();
    });
    await prompt.waitFor({ timeout: 20_000 });
    // The new version waits: the page still runs the old worker.
    expect(
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting !== null),
    ).toBe(true);

    await page.evaluate(() => {
      (window as unknown as { beforeUpdate: boolean }).beforeUpdate = true;
    });
    await Promise.all([
      page.waitForEvent('load'),
      prompt.getByRole('button', { name: 'Reload to update' }).click(),
    ]);
    await page.getByLabel('Username').waitFor();
    expect(
      await page.evaluate(() => (window as unknown as { beforeUpdate?: boolean }).beforeUpdate),
    ).toBeUndefined();
    expect(
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null),
    ).toBeNull();
    expect(await prompt.count()).toBe(0);
  });
});
