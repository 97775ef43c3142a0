import type { ErrorCode } from '../errors/codes.ts';
import { HttpError } from '../errors/http-error.ts';
import { type OpenRosaResponse, tryParseOpenRosaResponse } from '../protocol/openrosa-response.ts';
import type { QuarantineReason } from '../protocol/submission/submission-types.ts';
import { parseRetryAfter } from './retry-after.ts';

/**
 * HTTP statuses to outcomes, per HQ's contracts (PROTOCOL.md 2.4, 3.4, 7.3) and the issue-4
 * rules. Expected protocol outcomes are discriminated results; everything a caller cannot
 * plan around is an `HttpError` with a code.
 */

/** What a response looked like, read once: status, headers of interest and the text body. */
export interface ResponseSnapshot {
  status: number;
  url: string;
  headers: Headers;
  body: string;
}

/** The outcome of one submission attempt, as the outbox acts on it. */
export type SubmitOutcome =
  /** 201/2xx: the server holds the form (including a duplicate of one it already had). */
  | {
      status: 'accepted';
      httpStatus: number;
      duplicate: boolean;
      nature?: string;
      message?: string;
      formId?: string;
    }
  /** Permanent for these bytes: quarantine the form and go on with the next one. */
  | { status: 'rejected'; reason: QuarantineReason; httpStatus: number; nature?: string; message: string }
  /** Transient: stop the run, keep the form first in line, retry later. */
  | { status: 'retry'; code: ErrorCode; httpStatus?: number; retryAfterMs?: number; message: string }
  /**
   * Credentials no longer work (401), the user is gone (406) or may no longer submit here
   * (403, e.g. an ODK Central app user revoked or taken off the project): pause the queue
   * until the user logs in again. No later form would fare better, so quarantining them one
   * by one would only empty the queue into the quarantine.
   */
  | {
      status: 'auth';
      code: 'auth-invalid' | 'user-deactivated' | 'forbidden';
      httpStatus: number;
      message: string;
    };

/** HQ's duplicate text under OpenRosa < 3.0 (hq:corehq/form_processor/parsers/form.py, PROTOCOL.md 7.5). */
const DUPLICATE_RE = /^Form is a duplicate of another!/;

function shortBody(text: string): string {
  const t = text.trim();
  return t.length > 500 ? `${t.slice(0, 500)}…` : t;
}

/** 406 from `handle_401_response`: `{"error": "user.deactivated"|"user.deleted", "default_response": "…"}`. */
function deactivatedMessage(body: string): string | undefined {
  try {
    const json: unknown = JSON.parse(body);
    if (json !== null && typeof json === 'object') {
      const d = (json as { default_response?: unknown }).default_response;
      if (typeof d === 'string' && d !== '') return d;
      const e = (json as { error?: unknown }).error;
      if (typeof e === 'string') return e;
    }
  } catch {
    // A 406 without the JSON body is still a deactivated user for our purposes.
  }
  return undefined;
}

function serverText(snap: ResponseSnapshot, or: OpenRosaResponse | undefined): string | undefined {
  if (or?.message !== undefined && or.message !== '') return or.message;
  const t = shortBody(snap.body);
  return t === '' ? undefined : t;
}

/**
 * The typed error for a status the caller did not expect to handle itself.
 * 401 auth-invalid; 403 forbidden; 404 not-found; 406 user-deactivated (JSON
 * `default_response`, which Android shows verbatim); 412 restore-needed; 429/503
 * rate-limited (Android treats both as RATE_LIMITED_SERVER_ERROR, DataPullTask);
 * other 5xx server-error; the rest bad-response.
 */
export function httpErrorFor(snap: ResponseSnapshot, nowMs: number): HttpError {
  const or = tryParseOpenRosaResponse(snap.body);
  const retryAfterMs = parseRetryAfter(snap.headers.get('retry-after'), nowMs);
  const details = {
    status: snap.status,
    url: snap.url,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(or?.nature === undefined ? {} : { nature: or.nature }),
  };
  const s = snap.status;
  if (s === 406) {
    const msg = deactivatedMessage(snap.body) ?? 'This mobile worker is deactivated or deleted.';
    return new HttpError('user-deactivated', msg, { ...details, serverMessage: msg });
  }
  const text = serverText(snap, or);
  const withText = text === undefined ? details : { ...details, serverMessage: text };
  const suffix = text === undefined ? '' : `: ${text}`;
  if (s === 401)
    return new HttpError('auth-invalid', `The server rejected the credentials (401)${suffix}`, withText);
  if (s === 403) return new HttpError('forbidden', `The server refused access (403)${suffix}`, withText);
  if (s === 404) return new HttpError('not-found', `Not found (404)${suffix}`, withText);
  if (s === 412)
    return new HttpError('restore-needed', `The server asked for a fresh restore (412)${suffix}`, withText);
  if (s === 429 || s === 503)
    return new HttpError('rate-limited', `The server is busy (${s})${suffix}`, withText, true);
  if (s >= 500) return new HttpError('server-error', `Server error (${s})${suffix}`, withText, true);
  return new HttpError('bad-response', `Unexpected HTTP ${s}${suffix}`, withText);
}

/**
 * Classifies a receiver answer (PROTOCOL.md 7.3; issue 4 "Form states and rules").
 *
 * - 2xx with `submit_success` (a duplicate under OpenRosa 3.0 included) → accepted.
 * - 201 `submit_error` is HQ's OpenRosa-2.0 way of saying "processing failed" → rejected,
 *   except its duplicate text, which means the server already holds the form → accepted.
 * - 422 `post_processing_failure`: HQ saved the form and only post-save signals failed
 *   (under 2.0 the same case is a 201), so the form is delivered → accepted.
 * - 422 otherwise (processing_failure, bad part name/extension) → rejected. Android parses
 *   the message, quarantines and continues (and:…/FormUploadUtil.java).
 * - 413 → too-large; 409 → conflict (ODK Central's conflicting duplicate).
 * - 500 with an OpenRosa `submit_error` body is HQ's "Invalid XML"/"missing xmlns" answer
 *   (test_submit_errors.py): the same bytes can never succeed, and retrying them would
 *   block the queue forever (Android's stuck-queue failure), so → rejected.
 * - 401/406/403 → auth (the queue pauses). 403 pauses too: for HQ it means the worker
 *   lost access to the project (or a web user without the permission); for ODK Central a
 *   revoked app user or a form closed to submissions. Either way every form behind it
 *   would meet the same answer. 423 (form locked by a concurrent submission),
 *   429, 503, other 5xx → retry, honouring `Retry-After` when present.
 * - Any other 4xx → rejected.
 */
/**
 * The one-message envelope HQ answers nearly every submission with
 * (hq:corehq/ex-submodules/couchforms/openrosa_response.py), matched whole: no entity,
 * no markup, no CR in the text, so what it captures is exactly what the XML parser would
 * read. Anything else goes to the parser. Parsing every answer with the full XML parser
 * was a noticeable share of the client's time per form in a drain.
 * Exported for tests.
 */
const SIMPLE_ENVELOPE =
  /^\s*(?:<\?xml[^>]*\?>\s*)?<OpenRosaResponse xmlns="http:\/\/openrosa\.org\/http\/response">\s*<message nature="([A-Za-z_]+)">([^<&\r]*)<\/message>\s*<\/OpenRosaResponse>\s*$/;

export function readEnvelope(body: string): OpenRosaResponse | undefined {
  const m = body.length < 4096 ? SIMPLE_ENVELOPE.exec(body) : null;
  if (m === null) return tryParseOpenRosaResponse(body);
  const nature = m[1] ?? '';
  const text = (m[2] ?? '').trim();
  return { nature, message: text, messages: [{ nature, text }] };
}

export function classifySubmitResponse(snap: ResponseSnapshot, nowMs: number): SubmitOutcome {
  const s = snap.status;
  const or = readEnvelope(snap.body);
  const text = serverText(snap, or) ?? '';
  const nature = or?.nature;
  const withNature = <T extends object>(o: T): T & { nature?: string } =>
    nature === undefined ? o : { ...o, nature };
  if (s >= 200 && s < 300) {
    const formId = snap.headers.get('x-commcarehq-formid') ?? undefined;
    const base = {
      status: 'accepted' as const,
      httpStatus: s,
      ...(text === '' ? {} : { message: text }),
      ...(formId === undefined ? {} : { formId }),
    };
    if (nature === 'submit_error') {
      if (DUPLICATE_RE.test(text)) return withNature({ ...base, duplicate: true });
      return withNature({
        status: 'rejected',
        reason: 'processing-failure',
        httpStatus: s,
        message: text || 'The server could not process the form',
      });
    }
    return withNature({ ...base, duplicate: DUPLICATE_RE.test(text) });
  }
  if (s === 401 || s === 403 || s === 406) {
    const err = httpErrorFor(snap, nowMs);
    return {
      status: 'auth',
      code: s === 403 ? 'forbidden' : err.code === 'user-deactivated' ? 'user-deactivated' : 'auth-invalid',
      httpStatus: s,
      message: err.serverMessage ?? err.message,
    };
  }
  if (s === 422) {
    if (nature === 'post_processing_failure')
      return withNature({ status: 'accepted', httpStatus: s, duplicate: false, message: text });
    return withNature({
      status: 'rejected',
      reason: 'processing-failure',
      httpStatus: s,
      message: text || 'The server could not process the form (422)',
    });
  }
  if (s === 413)
    return withNature({
      status: 'rejected',
      reason: 'too-large',
      httpStatus: s,
      message: text || 'The form or an attachment is too large for the server (413)',
    });
  if (s === 409)
    return withNature({
      status: 'rejected',
      reason: 'conflict',
      httpStatus: s,
      message: text || 'The server holds a different form with this instanceID (409)',
    });
  if (s === 500 && nature === 'submit_error')
    return withNature({ status: 'rejected', reason: 'rejected', httpStatus: s, message: text });
  if (s === 423 || s === 429 || s >= 500) {
    const retryAfterMs = parseRetryAfter(snap.headers.get('retry-after'), nowMs);
    const code: ErrorCode = s === 429 || s === 503 ? 'rate-limited' : 'server-error';
    return {
      status: 'retry',
      code,
      httpStatus: s,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      message: `HTTP ${s}${text === '' ? '' : `: ${text}`}`,
    };
  }
  if (s >= 400)
    return withNature({
      status: 'rejected',
      reason: 'rejected',
      httpStatus: s,
      message: `HTTP ${s}${text === '' ? '' : `: ${text}`}`,
    });
  // 1xx/3xx should never reach us (fetch follows redirects); retrying is the safe reading.
  return { status: 'retry', code: 'bad-response', httpStatus: s, message: `Unexpected HTTP ${s}` };
}
