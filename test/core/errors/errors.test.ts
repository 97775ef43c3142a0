import { describe, expect, it } from 'vitest';
import { ERROR_MESSAGES, isErrorCode } from '../../../src/core/errors/codes.ts';
import { FieldsimError, isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import { HttpError } from '../../../src/core/errors/http-error.ts';
import { NetworkError } from '../../../src/core/errors/network-error.ts';
import { StorageError } from '../../../src/core/errors/storage-error.ts';
import { XmlError } from '../../../src/core/errors/xml-error.ts';

describe('error model', () => {
  it('every code has a human message', () => {
    for (const [code, message] of Object.entries(ERROR_MESSAGES)) {
      expect(isErrorCode(code)).toBe(true);
      expect(message.length).toBeGreaterThan(10);
    }
    expect(isErrorCode('no-such-code')).toBe(false);
  });

  it('subclasses keep code, name and their extra fields', () => {
    const h = new HttpError(
      'rate-limited',
      'slow down',
      { status: 429, url: '/x', retryAfterMs: 3000 },
      true,
    );
    expect(h).toBeInstanceOf(FieldsimError);
    expect([h.name, h.code, h.status, h.retryAfterMs, h.retryable]).toEqual([
      'HttpError',
      'rate-limited',
      429,
      3000,
      true,
    ]);
    const x = new XmlError('case-invalid', 'bad', { line: 3, column: 4, caseId: 'c1' });
    expect([x.code, x.line, x.column, x.caseId]).toEqual(['case-invalid', 3, 4, 'c1']);
    expect(new NetworkError('network-error', 'reset').retryable).toBe(true);
    expect(new NetworkError('aborted', 'cancel').retryable).toBe(false);
  });

  it('isFieldsimError recognises errors from another realm by shape', () => {
    const foreign = { name: 'FieldsimError', code: 'timeout', message: 'x', isFieldsimError: true };
    expect(isFieldsimError(foreign)).toBe(true);
    expect(isFieldsimError(new Error('plain'))).toBe(false);
    expect(isFieldsimError({ isFieldsimError: true })).toBe(false);
  });

  it('StorageError maps quota and closed-database failures to actionable codes', () => {
    const quota = Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    expect(StorageError.from(quota, 'saving form').code).toBe('storage-full');
    const dexieWrapped = Object.assign(new Error('abort'), {
      name: 'AbortError',
      inner: { name: 'QuotaExceededError' },
    });
    expect(StorageError.from(dexieWrapped, 'saving').code).toBe('storage-full');
    const closed = Object.assign(new Error('closed'), { name: 'DatabaseClosedError' });
    const mapped = StorageError.from(closed, 'reading');
    expect(mapped.code).toBe('storage-blocked');
    expect(mapped.cause).toBe(closed);
    expect(StorageError.from(new Error('weird'), 'x').code).toBe('storage-error');
  });
});
