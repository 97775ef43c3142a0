import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samplePath } from '../contract/samples.ts';

/** The real CLI entry (what `npx fieldsim` runs), in a child process: exit codes are part of the contract. */
const BIN = resolve(import.meta.dirname, '../../bin/fieldsim.js');
const HOUSEHOLD = resolve(import.meta.dirname, '../fixtures/apps/household');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
}

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-app-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fieldsim app fill', { timeout: 120_000 }, () => {
  it('fills a registration entry: the uuid() datum becomes the new case id in the case block', () => {
    const answers = join(tmp, 'reg.json');
    writeFileSync(answers, JSON.stringify({ '/data/name': 'Mwangi household' }));
    const r = run('app', 'fill', HOUSEHOLD, '--form', 'm0-f0', '--answers', answers, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = lastJson(r.stdout) as {
      form: { command: string; xmlns: string };
      xml: string;
      caseBlocks: { caseId: string; actions: { kind: string; caseType?: string; caseName?: string }[] }[];
      errors: unknown[];
    };
    expect(out.form.command).toBe('m0-f0');
    expect(out.form.xmlns).toBe('http://openrosa.org/formdesigner/FIELDSIM-HH-REGISTER');
    expect(out.errors).toEqual([]);
    expect(out.xml).toContain('<name>Mwangi household</name>');
    expect(out.xml).toContain('xmlns="http://openrosa.org/formdesigner/FIELDSIM-HH-REGISTER"');
    expect(out.caseBlocks).toHaveLength(1);
  });

  it('exits 1 with the form errors and no xml when a required question is empty', () => {
    const r = run('app', 'fill', HOUSEHOLD, '--form', 'm0-f0', '--json');
    expect(r.status).toBe(1);
    const out = lastJson(r.stdout);
    expect(out.xml).toBeUndefined();
    expect(out.errors).toEqual([{ ref: '/data/name', code: 'required', message: expect.any(String) }]);
  });

  it('--auto answers required questions, seeded: the same seed gives the same answers', () => {
    const a = run('app', 'fill', HOUSEHOLD, '--form', 'm0-f0', '--auto', '--seed', '7', '--json');
    const b = run('app', 'fill', HOUSEHOLD, '--form', 'm0-f0', '--auto', '--seed', '7', '--json');
    expect(a.status, a.stderr).toBe(0);
    const name = (x: string) => /<name>([^<]*)<\/name>/.exec(x)?.[1];
    const xa = lastJson(a.stdout).xml as string;
    expect(name(xa)).not.toBe('');
    expect(name(xa)).toBe(name(lastJson(b.stdout).xml as string));
  });

  it('a case entry takes --case from the restore and refuses a case outside its list', () => {
    const restore = join(HOUSEHOLD, 'restore.xml');
    const ok = run(
      'app',
      'fill',
      HOUSEHOLD,
      '--form',
      'm1-f0',
      '--restore',
      restore,
      '--case',
      'hh-a',
      '--auto',
      '--json',
    );
    expect(ok.status, ok.stderr).toBe(0);
    const none = run('app', 'fill', HOUSEHOLD, '--form', 'm1-f0', '--restore', restore, '--auto', '--json');
    expect(none.status).toBe(2);
    expect((lastJson(none.stdout).error as { code: string }).code).toBe('invalid-argument');
    const wrong = run(
      'app',
      'fill',
      HOUSEHOLD,
      '--form',
      'm1-f0',
      '--restore',
      restore,
      '--case',
      'no-such-case',
      '--auto',
      '--json',
    );
    expect(wrong.status).toBe(2);
    expect((lastJson(wrong.stdout).error as { message: string }).message).toContain('no-such-case');
  });

  it('exits 2 with a typed error for an unknown form, a broken zip and a missing app', () => {
    const unknown = run('app', 'fill', HOUSEHOLD, '--form', 'm9-f9', '--json');
    expect(unknown.status).toBe(2);
    expect(lastJson(unknown.stdout).error).toMatchObject({ code: 'form-not-found' });
    const zip = join(tmp, 'broken.ccz');
    writeFileSync(zip, 'PK\u0003\u0004 this is not a zip');
    const broken = run('app', 'fill', zip, '--form', 'm0-f0', '--json');
    expect(broken.status).toBe(2);
    expect(lastJson(broken.stdout).error).toMatchObject({ code: 'app-invalid' });
    const missing = run('app', 'fill', join(tmp, 'nope.ccz'), '--form', 'm0-f0', '--json');
    expect(missing.status).toBe(2);
  });

  it('exits 2 naming an answer path the form does not have', () => {
    const answers = join(tmp, 'bad.yaml');
    writeFileSync(answers, '/data/no_such_question: 3\n');
    const r = run('app', 'fill', HOUSEHOLD, '--form', 'm0-f0', '--answers', answers, '--json');
    expect(r.status).toBe(2);
    expect(lastJson(r.stdout).error).toMatchObject({ code: 'answer-invalid' });
    expect(r.stderr).toContain('/data/no_such_question');
  });
});

describe('fieldsim app check and show on commcare-core apps', { timeout: 120_000 }, () => {
  it('checks basic.ccz with its restore: forms fill or are skipped for a stated reason', () => {
    const r = run(
      'app',
      'check',
      samplePath('commcare-core/basic_app/basic.ccz'),
      '--restore',
      samplePath('commcare-core/basic_app/restore.xml'),
      '--json',
    );
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop() as {
      summary: { forms: number; ok: number; failed: number; skipped: number };
    };
    expect(summary.summary.forms).toBe(lines.length);
    expect(summary.summary.ok).toBeGreaterThan(15);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(['command', 'xmlns', 'ok']));
    // The failures are real ones, each typed (the ethiopian calendar function is not supported).
    const failed = lines.filter((l) => l.ok === false);
    expect(failed.length).toBe(summary.summary.failed);
    for (const f of failed)
      expect(f.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(r.status).toBe(summary.summary.failed === 0 ? 0 : 1);
  });

  it('passes on app_for_text_tests and exits 2 on the app whose demo restore is bad', () => {
    const ok = run('app', 'check', samplePath('commcare-core/app_for_text_tests'), '--json');
    expect(ok.status, ok.stdout).toBe(0);
    const bad = run('app', 'check', samplePath('commcare-core/app_with_bad_demo_restore'), '--json');
    expect(bad.status).toBe(2);
    expect(lastJson(bad.stdout).error).toMatchObject({ code: 'app-invalid' });
  });

  it('show lists menus, forms, case types and languages', () => {
    const r = run('app', 'show', HOUSEHOLD, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = lastJson(r.stdout) as {
      languages: string[];
      caseTypes: string[];
      menus: { forms: { command: string }[] }[];
    };
    expect(out.languages).toEqual(expect.arrayContaining(['en', 'fra']));
    expect(out.caseTypes).toContain('household');
    expect(out.menus.flatMap((m) => m.forms.map((f) => f.command))).toEqual(
      expect.arrayContaining(['m0-f0', 'm1-f0']),
    );
  });
});
