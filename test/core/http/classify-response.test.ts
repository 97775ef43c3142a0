import { describe, expect, it } from 'vitest';
import { classifySubmitResponse, httpErrorFor } from '../../../src/core/http/classify-response.ts';
import { parseRetryAfter } from '../../../src/core/http/retry-after.ts';
import { openRosa } from './fake-fetch.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const snap = (status: number, body = '', headers: Record<string, string> = {}) => ({
  status,
  url: 'http://hq/a/demo/receiver/',
  headers: new Headers(headers),
  body,
});

describe('classifySubmitResponse (PROTOCOL.md 7.3, issue 4 rules)', () => {
  it('201 submit_success is accepted, with the form id header', () => {
    const o = classifySubmitResponse(
      snap(201, openRosa('submit_success', '   √   '), { 'X-CommCareHQ-FormID': 'f1' }),
      NOW,
    );
    expect(o).toEqual({
      status: 'accepted',
      httpStatus: 201,
      duplicate: false,
      nature: 'submit_success',
      message: '√',
      formId: 'f1',
    });
  });

  it('201 submit_error duplicate (OpenRosa 2.0) counts as delivered', () => {
    const o = classifySubmitResponse(
      snap(201, openRosa('submit_error', 'Form is a duplicate of another! (abc)')),
      NOW,
    );
    expect(o.status).toBe('accepted');
    expect(o.status === 'accepted' && o.duplicate).toBe(true);
  });

  it('201 submit_error otherwise is a processing failure (quarantine)', () => {
    const o = classifySubmitResponse(
      snap(201, openRosa('submit_error', "InvalidCaseIndex: Case 'X' references non-existent case 'Y'")),
      NOW,
    );
    expect(o).toMatchObject({ status: 'rejected', reason: 'processing-failure', httpStatus: 201 });
    expect(o.status === 'rejected' && o.message).toContain('InvalidCaseIndex');
  });

  it('422 processing_failure quarantines; 422 post_processing_failure was saved, so accepted', () => {
    expect(
      classifySubmitResponse(snap(422, openRosa('processing_failure', 'IllegalCaseId: x')), NOW),
    ).toMatchObject({ status: 'rejected', reason: 'processing-failure', message: 'IllegalCaseId: x' });
    expect(
      classifySubmitResponse(snap(422, openRosa('post_processing_failure', 'signal failed')), NOW),
    ).toMatchObject({ status: 'accepted', httpStatus: 422 });
  });

  it('413 too-large, 409 conflict, 400 rejected; 403 pauses like 401', () => {
    expect(classifySubmitResponse(snap(413, 'Form exceeds 10MB size limit'), NOW)).toMatchObject({
      status: 'rejected',
      reason: 'too-large',
      message: 'Form exceeds 10MB size limit',
    });
    expect(classifySubmitResponse(snap(409), NOW)).toMatchObject({ status: 'rejected', reason: 'conflict' });
    expect(classifySubmitResponse(snap(400, 'bad'), NOW)).toMatchObject({
      status: 'rejected',
      reason: 'rejected',
    });
    expect(classifySubmitResponse(snap(403), NOW)).toMatchObject({ status: 'auth', code: 'forbidden' });
  });

  it('401 and 406 pause for auth, 406 carrying default_response', () => {
    expect(classifySubmitResponse(snap(401), NOW)).toMatchObject({ status: 'auth', code: 'auth-invalid' });
    const body = JSON.stringify({ error: 'user.deactivated', default_response: 'This user is deactivated' });
    expect(classifySubmitResponse(snap(406, body), NOW)).toEqual({
      status: 'auth',
      code: 'user-deactivated',
      httpStatus: 406,
      message: 'This user is deactivated',
    });
  });

  it('423, 429, 503 and 5xx retry; Retry-After honoured when present', () => {
    expect(classifySubmitResponse(snap(429), NOW)).toEqual({
      status: 'retry',
      code: 'rate-limited',
      httpStatus: 429,
      message: 'HTTP 429',
    });
    expect(classifySubmitResponse(snap(503, '', { 'Retry-After': '7' }), NOW)).toMatchObject({
      status: 'retry',
      code: 'rate-limited',
      retryAfterMs: 7000,
    });
    expect(classifySubmitResponse(snap(500), NOW)).toMatchObject({ status: 'retry', code: 'server-error' });
    expect(classifySubmitResponse(snap(502), NOW)).toMatchObject({ status: 'retry', code: 'server-error' });
    expect(classifySubmitResponse(snap(423, 'locked'), NOW)).toMatchObject({
      status: 'retry',
      httpStatus: 423,
    });
  });

  it("500 with HQ's submit_error body (invalid XML) is permanent, not a stuck queue", () => {
    const o = classifySubmitResponse(
      snap(500, openRosa('submit_error', 'There was an error processing the form: Invalid XML')),
      NOW,
    );
    expect(o).toMatchObject({ status: 'rejected', reason: 'rejected', httpStatus: 500 });
  });
});

describe('httpErrorFor', () => {
  it.each([
    [401, 'auth-invalid', false],
    [403, 'forbidden', false],
    [404, 'not-found', false],
    [406, 'user-deactivated', false],
    [412, 'restore-needed', false],
    [429, 'rate-limited', true],
    [503, 'rate-limited', true],
    [500, 'server-error', true],
    [418, 'bad-response', false],
  ] as const)('%i -> %s', (status, code, retryable) => {
    const e = httpErrorFor(snap(status), NOW);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.retryable).toBe(retryable);
  });

  it('412 keeps the OpenRosa message and nature', () => {
    const e = httpErrorFor(snap(412, openRosa('ota_restore_error', 'Invalid restore state')), NOW);
    expect(e.serverMessage).toBe('Invalid restore state');
    expect(e.nature).toBe('ota_restore_error');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, ignores garbage', () => {
    expect(parseRetryAfter('5', NOW)).toBe(5000);
    expect(parseRetryAfter(new Date(NOW + 3000).toUTCString(), NOW)).toBe(3000);
    expect(parseRetryAfter(new Date(NOW - 3000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });
});
