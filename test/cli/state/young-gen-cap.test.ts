import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * src/node-store/young-gen-cap.ts: while a file store is open, the main thread's new
 * space stops at 8 MB, through a full restore whose parse thread's creation resets V8's
 * growth factor; once the store closes, V8 grows it again (up to 32 MB).
 */
describe('young generation cap of a file store', () => {
  it('holds the new space at 8 MB through a threaded restore, and lets go on close', () => {
    const child = join(import.meta.dirname, 'helpers/young-gen-child.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
    expect(out.cases).toBe(3000);
    expect(out.open).toBeLessThanOrEqual(8);
    expect(out.restored).toBeLessThanOrEqual(8);
    expect(out.closed).toBeGreaterThan(8);
  }, 70_000);
});
