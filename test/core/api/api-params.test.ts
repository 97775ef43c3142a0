import { describe, expect, it } from 'vitest';
import { formatHqDateFilter, parseHqDate, toQuery } from '../../../src/core/api/api-params.ts';
import { isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';

describe('HQ date filters', () => {
  it('formats a Date as naive UTC, with microseconds only when there are milliseconds', () => {
    expect(formatHqDateFilter(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02T03:04:05');
    expect(formatHqDateFilter(new Date(Date.UTC(2026, 11, 31, 23, 59, 59, 7)))).toBe(
      '2026-12-31T23:59:59.007000',
    );
    // The local offset never leaks in: the instant is written in UTC.
    expect(formatHqDateFilter(new Date('2026-06-01T12:00:00+02:00'))).toBe('2026-06-01T10:00:00');
    // Matches the pattern HQ documents for these parameters (form.yaml, indexed_on_start).
    const re = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}Z|T\d{2}:\d{2}:\d{2}(\.\d{1,6})?)?$/;
    expect(formatHqDateFilter(new Date())).toMatch(re);
  });

  it('rejects an invalid Date with a typed error', () => {
    let err: unknown;
    try {
      formatHqDateFilter(new Date('nope'));
    } catch (e) {
      err = e;
    }
    expect(isFieldsimError(err) && err.code).toBe('invalid-argument');
  });

  it('parseHqDate reads naive (UTC), Z, offset and microsecond strings', () => {
    expect(parseHqDate('2012-04-05T23:56:41')?.toISOString()).toBe('2012-04-05T23:56:41.000Z');
    expect(parseHqDate('2016-11-29T14:50:42.530616Z')?.toISOString()).toBe('2016-11-29T14:50:42.530Z');
    expect(parseHqDate('2026-01-01T10:00:00.000000')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(parseHqDate('2011-12-06T13:42:50-05:00')?.toISOString()).toBe('2011-12-06T18:42:50.000Z');
    expect(parseHqDate('2026-03-04')?.toISOString()).toBe('2026-03-04T00:00:00.000Z');
    expect(parseHqDate(null)).toBeNull();
    expect(parseHqDate('garbage')).toBeNull();
  });
});

describe('toQuery', () => {
  it('skips undefined, writes booleans, numbers, strings and Dates', () => {
    const q = toQuery({
      type: 'household',
      closed: false,
      child_cases__full: true,
      limit: 50,
      owner_id: undefined,
      indexed_on_start: new Date(Date.UTC(2026, 1, 3)),
    });
    expect(q.toString()).toBe(
      'type=household&closed=false&child_cases__full=true&limit=50&indexed_on_start=2026-02-03T00%3A00%3A00',
    );
    expect(toQuery(undefined).toString()).toBe('');
  });

  it('refuses values it cannot write', () => {
    expect(() => toQuery({ users: ['a'] })).toThrow(/users/);
  });
});
