import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Hostile restore corpus (issue 16): each stream is generated in a child process (nothing
 * on disk), so its peak RSS measures this parse alone. Budget: 256 MB over the RSS before
 * parsing, whatever the input.
 */
const repo = join(import.meta.dirname, '../..');
const BUDGET_MB = 256;

interface Outcome {
  error: { code: string; message: string; caseId?: string; path?: string } | null;
  events: number;
  cases: number;
  bytes: number;
  ms: number;
  overMb: number;
}

function run(...args: string[]): Outcome {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      join(repo, 'node_modules/tsx/dist/cli.mjs'),
      join(import.meta.dirname, 'hostile-restore-child.ts'),
      ...args,
    ],
    { encoding: 'utf8', timeout: 170_000 },
  );
  if (r.status !== 0) throw new Error(`child failed (${r.status} ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Outcome;
}

describe('hostile restores: typed errors, bounded memory', () => {
  it('a case with 2 million child elements: xml-too-large naming the case, early', () => {
    const o = run('children', '2000000');
    expect(o.error).toMatchObject({
      code: 'xml-too-large',
      caseId: 'wide-case',
      path: 'OpenRosaResponse/case[3]',
    });
    expect(o.error?.message).toContain('<update> with more than 100000 children');
    expect(o.bytes).toBeLessThan(2 * 1024 * 1024);
    expect(o.overMb).toBeLessThan(BUDGET_MB);
  }, 180_000);

  it('a case with 14 million child elements (314 MB): the same typed error, no heap OOM', () => {
    const o = run('children', '14000000');
    expect(o.error).toMatchObject({ code: 'xml-too-large', caseId: 'wide-case' });
    expect(o.overMb).toBeLessThan(BUDGET_MB);
  }, 180_000);

  it('a case with 60 properties of 3.9 MB: xml-too-large once it holds 32 Mi characters', () => {
    const o = run('bigProperties');
    expect(o.error).toMatchObject({ code: 'xml-too-large', caseId: 'heavy-case' });
    expect(o.error?.message).toContain('holds more than 33554432 characters');
    expect(o.overMb).toBeLessThan(BUDGET_MB);
  }, 180_000);

  it('a fixture just under every limit (240k elements, ~26M characters) parses within the budget', () => {
    const o = run('fixtureAtLimits');
    expect(o.error).toBeNull();
    expect(o.events).toBe(3);
    expect(o.overMb).toBeLessThan(BUDGET_MB);
  }, 180_000);

  it('the well-formed ~200 MB restore of 283k cases streams through within the budget', () => {
    const o = run('cases', '283000');
    expect(o.error).toBeNull();
    expect(o.cases).toBe(283_000);
    expect(o.bytes).toBeGreaterThan(195_000_000);
    expect(o.overMb).toBeLessThan(BUDGET_MB);
  }, 180_000);
});
