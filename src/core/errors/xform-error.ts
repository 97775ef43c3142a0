import type { ErrorCode } from './codes.ts';
import { FieldsimError } from './fieldsim-error.ts';

/** The codes an app, suite or XForm problem can carry. */
export type XFormErrorCode = Extract<
  ErrorCode,
  | 'app-invalid'
  | 'form-not-found'
  | 'form-invalid'
  | 'xpath-syntax'
  | 'xpath-unsupported'
  | 'xpath-eval'
  | 'instance-missing'
  | 'calculate-cycle'
  | 'answer-invalid'
>;

export interface XFormErrorDetails {
  /** The app file the problem is in (`modules-0/forms-1.xml`, `suite.xml`). */
  file?: string;
  /** The instance path or expression the problem is about (`/data/age`). */
  ref?: string;
  /** The XPath expression, for syntax and evaluation errors. */
  expression?: string;
  cause?: unknown;
}

/**
 * A CommCare app, suite or XForm that cannot be loaded or run: a broken zip, a missing
 * file, an XPath that does not parse, an unsupported function, a missing instance, a
 * cycle of calculations. `file`/`ref` name where, so the CLI and the PWA can say it.
 */
export class XFormError extends FieldsimError {
  override readonly name = 'XFormError';
  readonly file: string | undefined;
  readonly ref: string | undefined;
  readonly expression: string | undefined;

  constructor(code: XFormErrorCode, message: string, details: XFormErrorDetails = {}) {
    super(code, message, { cause: details.cause });
    this.file = details.file;
    this.ref = details.ref;
    this.expression = details.expression;
  }
}
