import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/find-chromium.ts';

/**
 * Launches Debian's Chromium through playwright-core with the project's flags. Fails
 * loudly when no Chromium exists: browser tests are never skipped.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = ensureChromium(() => {});
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}
