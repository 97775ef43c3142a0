import { FieldsimError } from '../../core/errors/fieldsim-error.ts';

/**
 * Failures of the CLI's state folder: another command holds it (`state-in-use`), or a file
 * in it cannot be read back (`state-corrupt`). Both leave the files as they are, so
 * nothing queued in them is lost by the error itself.
 */
export class StateError extends FieldsimError {
  override readonly name = 'StateError';
  /** The file the error is about (lock file or snapshot). */
  readonly path: string;

  constructor(code: 'state-in-use' | 'state-corrupt', message: string, path: string, cause?: unknown) {
    super(code, message, { cause, retryable: code === 'state-in-use' });
    this.path = path;
  }
}
