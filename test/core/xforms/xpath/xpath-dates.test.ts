import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import {
  daysSinceEpoch,
  formatIsoDateTime,
  parseDateString,
} from '../../../../src/core/xforms/xpath/xpath-dates.ts';
import { toXPathNumber, toXPathString } from '../../../../src/core/xforms/xpath/xpath-values.ts';
import { docFromXml, evalAt, makeEnv } from './xpath-test-helpers.ts';

/** Dates follow the local zone as JavaRosa's do; the runner sets TZ. Check two zones. */
const savedTz = process.env.TZ;
afterAll(() => {
  process.env.TZ = savedTz;
});

describe('dates in Asia/Kolkata (+05:30)', () => {
  let data: InstanceNode;
  beforeAll(() => {
    process.env.TZ = 'Asia/Kolkata';
    data = docFromXml('<data><d>2020-02-29</d></data>').children[0] as InstanceNode;
  });

  it('now() prints the local time with a +HH:MM offset', () => {
    const env = makeEnv({}, { now: () => new Date(Date.UTC(2024, 0, 31, 20, 0, 0)) });
    expect(toXPathString(evalAt('now()', data, env))).toBe('2024-02-01T01:30:00.000+05:30');
  });

  it('today() is the local date, not the UTC one', () => {
    const env = makeEnv({}, { now: () => new Date(Date.UTC(2024, 0, 31, 20, 0, 0)) });
    expect(toXPathString(evalAt('today()', data, env))).toBe('2024-02-01');
    expect(evalAt("today() - date('2024-01-01')", data, env)).toBe(31);
  });

  it('dates count local days since 1970-01-01', () => {
    expect(evalAt("number(date('1970-01-01'))", data)).toBe(0);
    expect(evalAt('date(/data/d) + 1', data)).toBe(18322);
    expect(toXPathString(evalAt('date(18321)', data))).toBe('2020-02-29');
  });

  it('a date-time with an explicit offset keeps its instant', () => {
    const d = parseDateString('2024-05-01T10:00:00Z');
    expect(d?.ms).toBe(Date.UTC(2024, 4, 1, 10));
    expect(formatIsoDateTime(d?.ms ?? 0)).toBe('2024-05-01T15:30:00.000+05:30');
    expect(parseDateString('2024-05-01T10:00:00+02')?.ms).toBe(Date.UTC(2024, 4, 1, 8));
    expect(parseDateString('2024-05-01T10:00:00-03:30')?.ms).toBe(Date.UTC(2024, 4, 1, 13, 30));
    expect(parseDateString('2024-05-01T10:00')?.ms).toBe(Date.UTC(2024, 4, 1, 4, 30));
  });

  it('rejects what is not a date', () => {
    for (const s of ['2024-02-30', '2024-13-01', '24-1', '2024-05-01T25:00', '2024-05-01Tnoon', 'x']) {
      expect(parseDateString(s), s).toBeUndefined();
    }
  });
});

describe('dates in America/New_York (DST)', () => {
  let data: InstanceNode;
  beforeAll(() => {
    process.env.TZ = 'America/New_York';
    data = docFromXml('<data/>').children[0] as InstanceNode;
  });

  it('day numbers do not shift across a DST change', () => {
    expect(toXPathNumber(evalAt("date('2024-03-11') - date('2024-03-10')", data))).toBe(1);
    expect(toXPathNumber(evalAt("date('2024-11-04') - date('2024-11-03')", data))).toBe(1);
    const midnight = parseDateString('2024-03-10');
    expect(daysSinceEpoch(midnight?.ms ?? 0)).toBe(19792);
  });

  it('now() prints the negative offset without minutes', () => {
    const env = makeEnv({}, { now: () => new Date(Date.UTC(2024, 6, 1, 12, 0, 0)) });
    expect(toXPathString(evalAt('now()', data, env))).toBe('2024-07-01T08:00:00.000-04');
  });

  it('double(now()) is fractional local days', () => {
    const env = makeEnv({}, { now: () => new Date(Date.UTC(2024, 6, 1, 16, 0, 0)) }); // 12:00 local
    expect(evalAt('double(now())', data, env)).toBeCloseTo(19905.5, 9);
    expect(evalAt('number(now())', data, env)).toBe(19905);
  });
});
