import { CryptoError } from '../core/crypto/crypto-error.ts';
import { ESCROW_META } from '../core/store/escrow-store.ts';
import { readSecret } from './read-secret.ts';

/**
 * Password changed on the server (docs/cli.md, "Password changed on the server"): an
 * online login whose new password does not open the state's data key, and no key escrow
 * could, fails with `password-changed` (or `record-integrity` on a damaged escrow row).
 * The password used before is then taken from FIELDSIM_PREVIOUS_PASSWORD, or asked for
 * (`Previous password:`, no echo) on a terminal, never from a flag, and the login is tried
 * once more with it. Without either, the typed error stands, with a hint.
 */

export const PREVIOUS_PASSWORD_ENV = 'FIELDSIM_PREVIOUS_PASSWORD';

/** The errors a previous password answers. */
export function needsPreviousPassword(e: unknown): e is CryptoError {
  return (
    e instanceof CryptoError &&
    (e.code === 'password-changed' || (e.code === 'record-integrity' && e.recordKey === ESCROW_META))
  );
}

export async function withPreviousPassword<T>(run: (previousPassword?: string) => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!needsPreviousPassword(e)) throw e;
    const fromEnv = process.env[PREVIOUS_PASSWORD_ENV];
    if ((fromEnv === undefined || fromEnv === '') && !process.stdin.isTTY)
      throw new CryptoError(
        e.code === 'password-changed' ? 'password-changed' : 'record-integrity',
        `${e.message} Set ${PREVIOUS_PASSWORD_ENV}, or run the command on a terminal to be asked for it.`,
        {
          ...(e.table === undefined ? {} : { table: e.table }),
          ...(e.recordKey === undefined ? {} : { recordKey: e.recordKey }),
          cause: e,
        },
      );
    return run(await readSecret(PREVIOUS_PASSWORD_ENV, 'Previous password: '));
  }
}
