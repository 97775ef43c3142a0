import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/find-chromium.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { InstalledAppPage } from '../helpers/page-objects/installed-app-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { filesUnder, findInFiles } from '../helpers/profile-scan.ts';
import { startEmulator } from '../helpers/start-emulator.ts';
import { DIST, type Emu } from './app-harness.ts';
import { controlsCcz } from './controls-app.ts';
import { ensureBuild } from './ensure-build.ts';

/**
 * Issue 16, the last clear copy: answers typed into a form that is still open when the
 * browser closes. Chromium keeps form-control state in the tab's session history (the
 * profile's `Sessions/` files) to refill a restored tab; the PWA turns that off for every
 * control (src/app/platform/no-form-state.ts). Both kinds of form are left open with
 * answers typed (a flat form and an installed app's XForm), the tab navigates away and
 * back (which is when Chromium stores the page state), and the browser closes: the
 * profile then holds none of the answers, in UTF-8 or UTF-16LE.
 */

const FLAT = { household: 'Wanjiru Kamau Kiptoo Household', village: 'Kapsabet-Spring-Nineteen' };
const XFORM = { name: 'Olusegun Adebayo Nwachukwu', first: 'Ilesha-Market-Twenty-Two' };
const ANSWERS = [FLAT.household, FLAT.village, XFORM.name, XFORM.first];

let emu: Emu;
let profile: string;

beforeAll(async () => {
  ensureBuild();
  emu = await startEmulator({ staticDir: DIST });
  profile = mkdtempSync(join(tmpdir(), 'fieldsim-open-form-'));
});

afterAll(async () => {
  await emu?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe('answers of an open form stay out of the Chromium profile', () => {
  it('a flat form and an XForm left open with answers, the tab navigated away and back, the browser closed: no answer on disk', async () => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: ensureChromium(() => {}),
      args: CHROMIUM_ARGS,
      headless: true,
      bypassCSP: true,
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const shell = new AppShell(page);
      await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');

      await shell.go('Forms');
      await page.getByRole('link', { name: /Register a household/ }).click();
      await page.getByLabel('Household name').fill(FLAT.household);
      await page.getByLabel('Village').fill(FLAT.village);
      // Away and back: Chromium serialises the page's state into the session here.
      await page.goto('about:blank');
      await page.goBack();
      // The app came back locked (a reload of an encrypted database asks first).
      await new LockScreen(page).unlock('fieldsim');

      const apps = new InstalledAppPage(page);
      await shell.go('Apps');
      await page.getByLabel('Open a .ccz file').setInputFiles({
        name: 'controls.ccz',
        mimeType: 'application/zip',
        buffer: controlsCcz(),
      });
      await apps.openApp('Controls app');
      await apps.choose('Controls');
      await apps.choose('Every control');
      await apps.field('Full name').fill(XFORM.name);
      await page.getByRole('radio', { name: 'Blue' }).check();
      await page
        .getByRole('group', { name: 'One page' })
        .getByLabel('First', { exact: true })
        .fill(XFORM.first);
      await page.goto('about:blank');
      await page.goBack();
      await new LockScreen(page).unlock('fieldsim');
    } finally {
      await context.close();
    }
    // The scan is meaningful only if Chromium wrote its session files at all.
    expect(filesUnder(profile).some((f) => f.includes(`${join('Default', 'Sessions')}`))).toBe(true);
    expect(findInFiles([profile], ANSWERS)).toEqual([]);
  }, 120_000);
});
