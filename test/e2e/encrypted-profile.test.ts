import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/find-chromium.ts';
import { AppShell } from '../helpers/page-objects/app-shell.ts';
import { CaseListPage } from '../helpers/page-objects/case-list-page.ts';
import { FormsPage } from '../helpers/page-objects/forms-page.ts';
import { LockScreen } from '../helpers/page-objects/lock-screen.ts';
import { LoginPage } from '../helpers/page-objects/login-page.ts';
import { findInFiles, originIndexedDbFolders } from '../helpers/profile-scan.ts';
import { submitFromAnotherDevice } from '../helpers/server-form.ts';
import { startEmulator } from '../helpers/start-emulator.ts';
import { DIST, type Emu } from './app-harness.ts';
import { ensureBuild } from './ensure-build.ts';

/**
 * Issue 16's disk check in the PWA itself: a worker logs in (full restore), fills a form,
 * reloads (lock screen, password) and closes the browser; the persistent profile (a temp
 * user-data-dir) then holds no case name, case property value or form answer, in UTF-8 or
 * UTF-16LE, in its IndexedDB files nor anywhere else in the profile (the HTTP cache
 * included: restores are `no-store`).
 */

const SERVER_CASE = { name: 'Nyambura Wairimu Kariuki', property: 'Lurambi-Borehole-Eleven' };
const FORM = { household: 'Achieng Otieno Household', village: 'Siaya-Ridge-Fourteen' };
const SECRETS = [SERVER_CASE.name, SERVER_CASE.property, FORM.household, FORM.village];

let emu: Emu;
let profile: string;

beforeAll(async () => {
  ensureBuild();
  emu = await startEmulator({ staticDir: DIST });
  profile = mkdtempSync(join(tmpdir(), 'fieldsim-profile-'));
  const { id } = emu.app.db.prepare("SELECT id FROM users WHERE username LIKE 'worker1@%'").get() as {
    id: string;
  };
  // On the server before the device's first login, so it arrives with the full restore.
  await submitFromAnotherDevice(emu.url, {
    username: 'worker1',
    password: 'fieldsim',
    userId: id,
    name: SERVER_CASE.name,
    properties: { water_point: SERVER_CASE.property },
  });
});

afterAll(async () => {
  await emu?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe('encryption at rest in the PWA: the Chromium profile on disk', () => {
  it('holds no case name, property value or form answer after login, restore, a form and a reload; the lock screen asks first', async () => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: ensureChromium(() => {}),
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const shell = new AppShell(page);
      const list = new CaseListPage(page);
      await new LoginPage(page).logInToHome(emu.url, 'worker1', 'fieldsim');
      await shell.go('Forms');
      await new FormsPage(page).registerHousehold(FORM.household, FORM.village, '3');
      await shell.waitForUnsent(0, 30_000);

      // A reload asks for the password before anything shows; then search works (the
      // catalog is rebuilt from the decrypted summaries).
      await page.reload();
      await new LockScreen(page).unlock('fieldsim');
      await shell.go('Cases');
      await list.search(SERVER_CASE.name);
      await page.locator('[data-testid="case-list"] li .name', { hasText: SERVER_CASE.name }).waitFor();
      await list.search(FORM.household);
      await page.locator('[data-testid="case-list"] li .name', { hasText: FORM.household }).waitFor();

      // A wrong password opens nothing; "Log in as someone else" leaves for the login screen.
      await page.reload();
      const lock = new LockScreen(page);
      await lock.form().getByLabel('Password').fill('not-the-password');
      await lock.form().getByRole('button', { name: 'Unlock' }).click();
      expect(await lock.form().getByRole('alert').textContent()).toContain('Wrong password');
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
      await page.getByRole('button', { name: 'Log in as someone else' }).click();
      await page.getByLabel('Username').waitFor();
      // Nothing reopens by itself after that: the next start is the login screen.
      await page.reload();
      await page.getByLabel('Username').waitFor();
      expect(await lock.form().count()).toBe(0);
    } finally {
      // Closing the browser flushes IndexedDB's LevelDB logs to the profile folder.
      await context.close();
    }
    const idb = originIndexedDbFolders(profile, emu.url);
    expect(idb.length).toBeGreaterThan(0);
    expect(findInFiles(idb, SECRETS)).toEqual([]);
    // The scan reads what is there: the worker's own user record (meta) is in clear.
    expect(findInFiles(idb, ['worker1']).length).toBeGreaterThan(0);
    expect(findInFiles([profile], SECRETS)).toEqual([]);
  }, 120_000);
});
