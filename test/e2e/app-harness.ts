import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
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
