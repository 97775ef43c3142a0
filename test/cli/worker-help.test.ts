import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliInProcess } from '../helpers/cli-in-process.ts';

/** `--help` on every single-worker command (issue 7: conventional flags, help everywhere). */
const BIN = resolve(import.meta.dirname, '../../bin/fieldsim.js');

const COMMANDS = [
  'login',
  'restore',
  'sync',
  'cases',
  'cases show',
  'submit',
  'outbox',
  'outbox send',
  'outbox show',
  'outbox requeue',
  'outbox quarantine',
  'outbox export',
  'outbox import',
];

/** Runs the CLI in this process, capturing what it writes. */
const inProcess = (...args: string[]) => cliInProcess(args);

afterEach(() => {
  process.exitCode = undefined;
});

describe('fieldsim worker commands --help', () => {
  it('the real entry point lists the six commands and exits 2 on a usage error', () => {
    const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    for (const c of ['login', 'restore', 'sync', 'cases', 'submit', 'outbox'])
      expect(r.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
    const bad = spawnSync(process.execPath, [BIN, 'login', '--no-such-flag'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option '--no-such-flag'");
  });

  it.each(COMMANDS)('%s --help prints usage with the shared flags and exits 0', async (cmd) => {
    const r = await inProcess(...cmd.split(' '), '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: fieldsim ${cmd}`);
    for (const flag of [
      '--server <url>',
      '--domain <domain>',
      '--user <username>',
      '--as <worker>',
      '--password <password>',
      '--api-key <key>',
      '--state <dir>',
      '--json',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('FIELDSIM_PASSWORD');
    expect(r.stdout).toContain('FIELDSIM_AS');
  });

  it('restore --no-purge and submit --attach are documented in their help', async () => {
    expect((await inProcess('restore', '--help')).stdout).toContain('--no-purge');
    const submit = (await inProcess('submit', '--help')).stdout;
    expect(submit).toContain('--attach <name=path>');
    expect(submit).toContain('--attach front.jpg=');
  });

  it('usage errors exit 2', async () => {
    expect((await inProcess('cases', '--limit', 'many')).status).toBe(2);
    expect((await inProcess('cases', '--status', 'maybe')).status).toBe(2);
    expect((await inProcess('outbox', 'show')).status).toBe(2);
    expect((await inProcess('submit', '--prop', 'novalue')).status).toBe(2);
    expect((await inProcess('submit', '--attach', 'nopath')).status).toBe(2);
    expect((await inProcess('submit', '--attach', 'xml_submission_file=f.xml')).status).toBe(2);
    // No login in this (empty) state folder: a usage error with the way out.
    const r = await inProcess(
      'cases',
      '--domain',
      'demo',
      '--user',
      'w',
      '--state',
      join(tmpdir(), 'fieldsim-never-created-x'),
      '--json',
    );
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'not-logged-in' } });
    expect(r.stderr).toContain('run `fieldsim login` first');
    // Two modes at once, or none.
    const both = await inProcess(
      'submit',
      '--new-case',
      '--close-case',
      'x',
      '--offline',
      '--state',
      join(tmpdir(), 'fieldsim-never-created-y'),
      '--domain',
      'd',
      '--user',
      'u',
    );
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('Give exactly one of --new-case');
    expect(existsSync(join(tmpdir(), 'fieldsim-never-created-x'))).toBe(false);
  });
});
