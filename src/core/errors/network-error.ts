import { FieldsimError } from './fieldsim-error.ts';

/** The request never got an HTTP answer: offline, refused, reset, or timed out. */
export class NetworkError extends FieldsimError {
  override readonly name = 'NetworkError';
  constructor(
    code: 'network-offline' | 'network-error' | 'timeout' | 'aborted',
    message: string,
    cause?: unknown,
  ) {
    super(code, message, { cause, retryable: code !== 'aborted' });
  }
}
