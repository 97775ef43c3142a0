import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samplePath } from '../contract/samples.ts';

/** Runs the real CLI entry (bin/fieldsim.js, what `npx fieldsim` runs) in a child process. */
const BIN = resolve(import.meta.dirname, '../../bin/fieldsim.js');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-restore-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fieldsim restore-file', () => {
  it('prints the contract JSON for case_create_basic.xml', () => {
    const r = run('restore-file', samplePath('commcare-core/case_create_basic.xml'), '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      syncToken: 'sync_token_a',
      user: { username: 'test', uuid: 'test_example' },
      cases: { total: 1, open: 1, closed: 0, byType: { retain_test: 1 } },
      indices: 0,
      fixtures: ['user-groups'],
      ledgers: 0,
    });
  });

  it('counts indices, fixtures and ledgers of ipm_restore.xml', () => {
    const r = run('restore-file', samplePath('commcare-core/ipm_restore.xml'), '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.cases.total).toBe(6);
    expect(j.fixtures).toEqual([
      'commtrack:locations',
      'commtrack:products',
      'commtrack:programs',
      'user-groups',
    ]);
    expect(j.indices).toBe(5);
    expect(j.ledgers).toBe(100);
  });

  it('purges by default and keeps everything with --no-purge', () => {
    const file = samplePath('commcare-core/case_purge/validate_case_graph_test_multiple_parents.xml');
    expect(JSON.parse(run('restore-file', file, '--json').stdout).cases.total).toBe(2);
    const kept = JSON.parse(run('restore-file', file, '--no-purge', '--json').stdout);
    expect(kept.cases).toEqual({ total: 4, open: 4, closed: 0, byType: { test_case: 4 } });
    expect(kept.indices).toBe(4);
  });

  it('counts closed cases and dangling indices with --no-purge', () => {
    const file = join(tmp, 'closed.xml');
    writeFileSync(
      file,
      '<OpenRosaResponse><case xmlns="http://commcarehq.org/case/transaction/v2" case_id="a" date_modified="2020-01-01" user_id="u">' +
        '<create><case_type>x</case_type><case_name>A</case_name></create><index><parent case_type="x">gone</parent></index><close/></case></OpenRosaResponse>',
    );
    const j = JSON.parse(run('restore-file', file, '--no-purge', '--json').stdout);
    expect(j).toEqual({
      syncToken: null,
      user: null,
      cases: { total: 1, open: 0, closed: 1, byType: { x: 1 } },
      indices: 1,
      fixtures: [],
      ledgers: 0,
    });
  });

  it.each([
    ['commcare-core/case_purge/cyclic_case_relationship_test.xml', 'invalid-case-graph'],
    ['commcare-core/case_parse/no_name.xml', 'case-invalid'],
    ['commcare-core/schema-after-indexed-fixture.xml', 'fixture-invalid'],
  ])('rejects %s with exit 2 and {"error":{"code":"%s"}}', (file, code) => {
    const r = run('restore-file', samplePath(file), '--json');
    expect(r.status).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['error']);
    expect(j.error.code).toBe(code);
    expect(typeof j.error.message).toBe('string');
    expect(j.error.message.length).toBeGreaterThan(0);
  });

  it('rejects malformed XML and a missing file with exit 2', () => {
    const bad = join(tmp, 'bad.xml');
    // Text before the root is skipped as on the phone; a mismatched end tag is not.
    writeFileSync(bad, 'junk<OpenRosaResponse><a></b></OpenRosaResponse>');
    const r = run('restore-file', bad, '--json');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('xml-malformed');
    const missing = run('restore-file', join(tmp, 'nope.xml'), '--json');
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout).error.code).toBe('invalid-argument');
  });

  it('prints a readable summary without --json', () => {
    const r = run('restore-file', samplePath('commcare-core/case_create_basic.xml'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/sync token: sync_token_a/);
    expect(r.stdout).toMatch(/retain_test: 1/);
  });
});
