import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { startEmulator } from '../helpers/start-emulator.ts';
import { launchChromium } from '../helpers/with-chromium.ts';
import { ensureBuild } from './ensure-build.ts';

export type Emu = Awaited<ReturnType<typeof startEmulator>>;
export const DIST = join(import.meta.dirname, '..', '..', 'dist');

export interface OpenedApp {
  emu: Emu;
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

/**
 * What most PWA tests start from: the built app (rebuilt if stale) served by a fresh
 * emulator with the demo project on 127.0.0.1, and a Chromium page at 1280x800.
 */
export async function openApp(contextOptions: BrowserContextOptions = {}): Promise<OpenedApp> {
  ensureBuild();
  const emu = await startEmulator({ staticDir: DIST });
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  const page = await context.newPage();
  return { emu, browser, context, page };
}

/** Closes what `openApp` opened; safe after a partial start. */
export async function closeApp(app: Partial<OpenedApp>): Promise<void> {
  await app.context?.close();
  await app.browser?.close();
  await app.emu?.close();
}

export interface UseAppOptions {
  /** Chromium context options (locale, colour scheme, viewport, bypassCSP...). */
  context?: BrowserContextOptions;
  /** Log this demo worker in (password `fieldsim`) and wait for Home before the tests. */
  login?: string;
}

/**
 * The e2e fixture: opens the app before the file's tests (and logs in when asked), hands
 * what it opened to `take` so the tests keep their own variables, and closes it all after.
 */
export function useApp(options: UseAppOptions, take: (app: OpenedApp) => void): void {
  let app: Partial<OpenedApp> = {};
  beforeAll(async () => {
    const opened = await openApp(options.context);
    app = opened;
    take(opened);
    if (options.login)
      await new LoginPage(opened.page).logInToHome(opened.emu.url, options.login, 'fieldsim');
  });
  afterAll(() => closeApp(app));
}
