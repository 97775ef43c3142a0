import { afterEach, describe, expect, it, vi } from 'vitest';

const asked: string[][] = [];
vi.mock('../../src/cli/read-secret.ts', () => ({
  readSecret: async (env: string, prompt: string) => {
    asked.push([env, prompt]);
    return 'typed-old';
  },
}));

const { CryptoError } = await import('../../src/core/crypto/crypto-error.ts');
const { withPreviousPassword } = await import('../../src/cli/previous-password.ts');

/** The CLI's one retry with the previous password (docs/cli.md). */

const changed = () => new CryptoError('password-changed', 'changed on the server.');
const tty = process.stdin.isTTY;
afterEach(() => {
  process.stdin.isTTY = tty;
  delete process.env.FIELDSIM_PREVIOUS_PASSWORD;
  asked.length = 0;
});

describe('withPreviousPassword', () => {
  it('on a terminal asks "Previous password:" once and retries with it', async () => {
    process.stdin.isTTY = true;
    const calls: (string | undefined)[] = [];
    const out = await withPreviousPassword(async (prev) => {
      calls.push(prev);
      if (prev === undefined) throw changed();
      return 'opened';
    });
    expect(out).toBe('opened');
    expect(calls).toEqual([undefined, 'typed-old']);
    expect(asked).toEqual([['FIELDSIM_PREVIOUS_PASSWORD', 'Previous password: ']]);
  });

  it('without a terminal or the env: the typed error, with the hint; other errors pass through', async () => {
    process.stdin.isTTY = false;
    const err = await withPreviousPassword(async () => {
      throw changed();
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'password-changed' });
    expect((err as Error).message).toContain('FIELDSIM_PREVIOUS_PASSWORD');
    expect(asked).toEqual([]);
    const other = new CryptoError('wrong-password', 'no');
    await expect(
      withPreviousPassword(async () => {
        throw other;
      }),
    ).rejects.toBe(other);
  });

  it('retries only once', async () => {
    process.env.FIELDSIM_PREVIOUS_PASSWORD = 'env-old';
    process.stdin.isTTY = false;
    let n = 0;
    await expect(
      withPreviousPassword(async () => {
        n++;
        throw changed();
      }),
    ).rejects.toMatchObject({ code: 'password-changed' });
    expect(n).toBe(2);
  });
});
