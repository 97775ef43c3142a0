import { TimeoutError } from 'ky';
import { isFieldsimError } from '../errors/fieldsim-error.ts';
import { NetworkError } from '../errors/network-error.ts';
import { toError } from '../lib/to-error.ts';

/**
 * Turns whatever a fetch threw into a `NetworkError`. `fetch` rejects with a `TypeError` for
 * refused/reset connections and DNS failures (the WHATWG spec gives no finer detail), with
 * an `AbortError` when a signal fired, and ky adds its own `TimeoutError`.
 */
export function toNetworkError(error: unknown, url: string, signal?: AbortSignal): NetworkError {
  if (error instanceof NetworkError) return error;
  if (error instanceof TimeoutError) return new NetworkError('timeout', `Request to ${url} timed out`, error);
  const e = toError(error);
  if (signal?.aborted || e.name === 'AbortError')
    return new NetworkError('aborted', `Request to ${url} was cancelled`, error);
  if (e.name === 'TimeoutError') return new NetworkError('timeout', `Request to ${url} timed out`, error);
  return new NetworkError('network-error', `Request to ${url} failed: ${e.message}`, error);
}

/** True for errors that mean "no HTTP answer arrived" (as opposed to an HTTP error status). */
export function isNetworkError(error: unknown): error is NetworkError {
  return isFieldsimError(error) && error.name === 'NetworkError';
}
