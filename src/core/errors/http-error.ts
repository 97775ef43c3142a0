import type { ErrorCode } from './codes.ts';
import { FieldsimError } from './fieldsim-error.ts';

export interface HttpErrorDetails {
  status: number;
  url: string;
  /** Milliseconds from a `Retry-After` header, when the server sent one. */
  retryAfterMs?: number;
  /** The OpenRosa `<message>` text, or a JSON `default_response`, or a plain-text body. */
  serverMessage?: string;
  /** The OpenRosa `nature` attribute, when the body was an OpenRosaResponse. */
  nature?: string;
}

/** An HTTP answer that is not what the caller needed. Never carries credentials. */
export class HttpError extends FieldsimError {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly url: string;
  readonly retryAfterMs: number | undefined;
  readonly serverMessage: string | undefined;
  readonly nature: string | undefined;

  constructor(code: ErrorCode, message: string, details: HttpErrorDetails, retryable = false) {
    super(code, message, { retryable });
    this.status = details.status;
    this.url = details.url;
    this.retryAfterMs = details.retryAfterMs;
    this.serverMessage = details.serverMessage;
    this.nature = details.nature;
  }
}
