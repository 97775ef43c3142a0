import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Runs ensureChromium in a child process so CHROMIUM_PATH can be set without touching this process.
function ensureWith(env: Record<string, string>) {
  return spawnSync(
    'npx',
    [
      'tsx',
      '-e',
      "import('./scripts/find-chromium.ts').then(m => { try { console.log('FOUND ' + m.ensureChromium(() => {})) } catch (e) { console.log('ERR ' + e.code + ' ' + e.message); } })",
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
}

describe('ensureChromium', () => {
  it('uses CHROMIUM_PATH when it exists', () => {
    const r = ensureWith({ CHROMIUM_PATH: process.execPath });
    expect(r.stdout.trim()).toBe(`FOUND ${process.execPath}`);
  });

  it('fails with a clear message when CHROMIUM_PATH points nowhere (never silently skips)', () => {
    const r = ensureWith({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.stdout).toContain('ERR chromium-missing CHROMIUM_PATH=/nonexistent/chromium does not exist');
  });
});
