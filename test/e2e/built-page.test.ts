import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild } from './ensure-build.ts';

/**
 * The built index.html: vite-plugin-pwa injects the web app manifest link itself, so the
 * source page must not carry its own (a newcomer found it twice, issue 13).
 */
const DIST = join(import.meta.dirname, '..', '..', 'dist');

describe('built page', () => {
  beforeAll(() => {
    ensureBuild();
  });

  it('links the web app manifest exactly once', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const links = [...html.matchAll(/<link\b[^>]*\brel=["']?manifest["']?[^>]*>/g)].map((m) => m[0]);
    expect(links).toHaveLength(1);
    expect(links[0]).toContain('manifest.webmanifest');
  });
});
