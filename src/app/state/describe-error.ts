import { ERROR_MESSAGES, isErrorCode } from '../../core/errors/codes.ts';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';

/** A sentence for people from anything thrown; never includes credentials (core errors carry none). */
export function describeError(e: unknown): string {
  if (isFieldsimError(e)) {
    // Core messages are written for people; the code's stock sentence is the fallback.
    const base = e.message || (isErrorCode(e.code) ? ERROR_MESSAGES[e.code] : e.code);
    const server = (e as { serverMessage?: unknown }).serverMessage;
    return typeof server === 'string' && server !== '' && server !== base ? `${base} (${server})` : base;
  }
  if (e instanceof DOMException && e.name === 'AbortError') return 'Cancelled.';
  if (e instanceof Error) return e.message;
  return String(e);
}
