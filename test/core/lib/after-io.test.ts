import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { afterIo } from '../../../src/core/lib/after-io.ts';

describe('afterIo', () => {
  it('resolves after the ticks and microtasks queued with it, waiters in call order', async () => {
    const seen: string[] = [];
    const a = afterIo().then(() => seen.push('io 1'));
    process.nextTick(() => seen.push('tick'));
    let p: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < 50; i++) p = p.then(() => undefined);
    void p.then(() => seen.push('50 microtasks'));
    const b = afterIo().then(() => seen.push('io 2'));
    await Promise.all([a, b]);
    expect([...seen.slice(0, 2)].sort()).toEqual(['50 microtasks', 'tick']);
    expect(seen.slice(2)).toEqual(['io 1', 'io 2']);
    // Again, once the first wake has gone by.
    await afterIo();
  });

  it('holds a Node process open only while something waits for it', () => {
    const mod = resolve(import.meta.dirname, '../../../src/core/lib/after-io.ts');
    const script = `import { afterIo } from ${JSON.stringify(mod)};
      await afterIo(); await afterIo();
      console.log('done');`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    // It ran to the end (the wait held the process open) and then exited (nothing held it after).
    expect(out.trim()).toBe('done');
  });
});
