import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/find-chromium.ts';
import { findInFiles, originIndexedDbFolders } from '../helpers/profile-scan.ts';
import { type ServedBundle, serveBundle } from './case-db-harness.ts';

/**
 * Encryption at rest in a real Chromium profile: a restore and a form save through the
 * core into IndexedDB, then the profile's files on disk (a persistent user-data-dir in a
 * temp folder) are scanned for the case names, property values and form answers, in UTF-8
 * and UTF-16LE. Two origins (two ports), so each has its own IndexedDB folder: the
 * encrypted one must hold none of them; the plain control one must hold them (the scan
 * can see them when they are there).
 */

const SECRETS = {
  caseName: 'Wanjiku Kamau Ochieng',
  property: 'Kakamega-Village-Nine',
  answer: 'persistent-cough-and-fever',
};

interface ScanApi {
  run(encrypt: boolean, s: typeof SECRETS): Promise<{ cases: number; name: string; xmlHasAnswer: boolean }>;
}
declare global {
  var fieldsimScan: ScanApi;
}

let dir: string;
let encServed: ServedBundle;
let plainServed: ServedBundle;

/** Secrets found in the files of one origin's IndexedDB folder(s), by encoding. */
function scan(origin: string): string[] {
  const roots = originIndexedDbFolders(dir, origin);
  expect(roots.length).toBeGreaterThan(0);
  return findInFiles(roots, Object.values(SECRETS));
}

async function runIn(context: BrowserContext, url: string, encrypt: boolean) {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => globalThis.fieldsimScan !== undefined);
  const r = await page.evaluate(([e, s]) => globalThis.fieldsimScan.run(e, s), [encrypt, SECRETS] as const);
  await page.close();
  return r;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fieldsim-profile-'));
  const entry = resolve(import.meta.dirname, 'encrypted-profile.entry.ts');
  encServed = await serveBundle(entry);
  plainServed = await serveBundle(entry);
});

afterAll(async () => {
  await encServed?.close();
  await plainServed?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('encryption at rest: Chromium profile on disk', () => {
  it('holds no case name, property value or form answer in any encoding; the plain control does', async () => {
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: ensureChromium(() => {}),
      args: CHROMIUM_ARGS,
      headless: true,
    });
    const enc = await runIn(context, encServed.url, true);
    const plain = await runIn(context, plainServed.url, false);
    // Closing the browser flushes IndexedDB's LevelDB logs to the profile folder.
    await context.close();
    expect(enc).toEqual({ cases: 200, name: `${SECRETS.caseName} 7`, xmlHasAnswer: true });
    expect(plain).toEqual(enc);
    expect(scan(encServed.url)).toEqual([]);
    const control = scan(plainServed.url).join('\n');
    for (const s of Object.values(SECRETS)) expect(control).toContain(s.slice(0, 9));
  }, 120_000);
});
