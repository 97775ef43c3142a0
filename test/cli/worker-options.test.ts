import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/cli/state/state-store.ts';
import {
  normaliseServer,
  printable,
  resolveCredentials,
  resolveIdentity,
  UsageError,
} from '../../src/cli/worker-options.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-opts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ENV = [
  'FIELDSIM_SERVER',
  'FIELDSIM_DOMAIN',
  'FIELDSIM_USER',
  'FIELDSIM_PASSWORD',
  'FIELDSIM_API_KEY',
  'FIELDSIM_AS',
] as const;
let saved: Record<string, string | undefined> = {};
beforeEach(() => {
  saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  for (const k of ENV) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV) {
    const v = saved[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('worker identity', () => {
  it('flags win over the environment, which wins over the last login; default server is the local emulator', () => {
    const store = new StateStore(join(tmp, 'a'));
    expect(() => resolveIdentity({}, store)).toThrow(UsageError);
    expect(resolveIdentity({ domain: 'demo', user: 'Worker One' }, store)).toEqual({
      server: 'http://127.0.0.1:8000',
      domain: 'demo',
      username: 'worker.one@demo.commcarehq.org',
    });
    store.writeCurrent({ server: 'https://hq.example', domain: 'proj', username: 'w9@proj.commcarehq.org' });
    expect(resolveIdentity({}, store)).toEqual({
      server: 'https://hq.example',
      domain: 'proj',
      username: 'w9@proj.commcarehq.org',
    });
    process.env.FIELDSIM_USER = 'w2';
    expect(resolveIdentity({}, store).username).toBe('w2@proj.commcarehq.org');
    expect(resolveIdentity({ user: 'w3' }, store).username).toBe('w3@proj.commcarehq.org');
  });

  it("the last login's user stands in only for the same domain and server", () => {
    const store = new StateStore(join(tmp, 'b'));
    store.writeCurrent({
      server: 'http://127.0.0.1:8000',
      domain: 'demo',
      username: 'worker1@demo.commcarehq.org',
    });
    expect(() => resolveIdentity({ domain: 'other' }, store)).toThrow(/--user is required/);
    expect(() => resolveIdentity({ server: 'http://127.0.0.1:9000' }, store)).toThrow(/--user is required/);
    expect(resolveIdentity({ server: 'http://127.0.0.1:8000/' }, store).username).toBe(
      'worker1@demo.commcarehq.org',
    );
  });

  it("--as (env FIELDSIM_AS): full names; the last login's pair carries over only without --user; its own folder", () => {
    const store = new StateStore(join(tmp, 'c'));
    const pair = resolveIdentity({ domain: 'demo', user: 'admin@example.com', as: 'worker1' }, store);
    expect(pair).toEqual({
      server: 'http://127.0.0.1:8000',
      domain: 'demo',
      username: 'admin@example.com',
      as: 'worker1@demo.commcarehq.org',
    });
    expect(() => resolveIdentity({ domain: 'demo', user: 'worker1', as: 'Worker1' }, store)).toThrow(
      /--user itself/,
    );
    process.env.FIELDSIM_AS = 'worker2';
    expect(resolveIdentity({ domain: 'demo', user: 'admin@example.com' }, store).as).toBe(
      'worker2@demo.commcarehq.org',
    );
    delete process.env.FIELDSIM_AS;

    store.writeCurrent(pair);
    expect(store.readCurrent()).toEqual(pair);
    expect(resolveIdentity({}, store)).toEqual(pair);
    // Naming the user means that user's own data.
    expect(resolveIdentity({ user: 'admin@example.com' }, store).as).toBeUndefined();
    expect(resolveIdentity({ as: 'worker2' }, store)).toMatchObject({
      username: 'admin@example.com',
      as: 'worker2@demo.commcarehq.org',
    });
    const own = { ...pair };
    delete own.as;
    expect(store.userDir(pair)).not.toBe(store.userDir(own));
    expect(store.userDir(pair)).toContain('admin@example.com-as-worker1@demo.commcarehq.org-');
  });

  it('server URLs: http(s) only, no credentials, query or fragment; trailing slashes dropped', () => {
    expect(normaliseServer('https://www.commcarehq.org/')).toBe('https://www.commcarehq.org');
    expect(normaliseServer('http://h:8000/hq//')).toBe('http://h:8000/hq');
    expect(() => normaliseServer('ftp://h')).toThrow(UsageError);
    expect(() => normaliseServer('http://u:secret@h')).toThrow(/not in the URL/);
    expect(() => normaliseServer('http://h/?x=1')).toThrow(UsageError);
    expect(() => normaliseServer('nope')).toThrow(UsageError);
  });
});

describe('worker credentials', () => {
  it('flags first, then the environment; a password or a key, never both', () => {
    expect(resolveCredentials({})).toBeNull();
    process.env.FIELDSIM_PASSWORD = 'env-pw';
    expect(resolveCredentials({})).toEqual({ kind: 'password', secret: 'env-pw' });
    expect(resolveCredentials({ apiKey: 'k' })).toEqual({ kind: 'api-key', secret: 'k' });
    expect(() => resolveCredentials({ password: 'a', apiKey: 'k' })).toThrow(UsageError);
    process.env.FIELDSIM_API_KEY = 'env-key';
    expect(() => resolveCredentials({})).toThrow(/both set/);
    expect(resolveCredentials({ password: 'flag' })).toEqual({ kind: 'password', secret: 'flag' });
    expect(() => resolveCredentials({ password: '' })).toThrow(/empty/);
  });
});

describe('human output', () => {
  it('replaces control characters from server data (terminal escapes), keeps tabs, newlines and text', () => {
    expect(printable('a\tb\nc')).toBe('a\tb\nc');
    expect(printable('\x1b[2J\x1b]0;owned\x07name\u009b')).toBe('\ufffd[2J\ufffd]0;owned\ufffdname\ufffd');
    expect(printable('Zanele ✓ é')).toBe('Zanele ✓ é');
  });
});
