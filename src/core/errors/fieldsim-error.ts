import type { ErrorCode } from './codes.ts';

export interface FieldsimErrorOptions {
  cause?: unknown;
  /** Whether the same operation may succeed if tried again later without changes. */
  retryable?: boolean;
}

/**
 * Base of every error fieldsim throws. `code` is the discriminator callers act on; the
 * message is for people. The `name` check in `isFieldsimError` works across realms
 * (service worker and page), where `instanceof` does not.
 */
export class FieldsimError extends Error {
  override readonly name: string = 'FieldsimError';
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: FieldsimErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }

  get isFieldsimError(): true {
    return true;
  }
}

export function isFieldsimError(value: unknown): value is FieldsimError {
  return (
    value instanceof FieldsimError ||
    (typeof value === 'object' &&
      value !== null &&
      (value as { isFieldsimError?: unknown }).isFieldsimError === true &&
      typeof (value as { code?: unknown }).code === 'string')
  );
}
