import { describe, expect, it } from 'vitest';
import { checkType } from '../../../../src/core/xforms/model/check-type.ts';

describe('checkType', () => {
  it.each([
    ['int', '42', true],
    ['int', '-7', true],
    ['int', '4.2', false],
    ['int', 'x', false],
    ['decimal', '4.25', true],
    ['decimal', '.5', true],
    ['decimal', '1e3', true],
    ['decimal', '4,2', false],
    ['date', '2026-02-28', true],
    ['date', '2026-02-30', false],
    ['date', '28/02/2026', false],
    ['time', '13:45', true],
    ['time', '13:45:10.500+02:00', true],
    ['time', '25:00', false],
    ['dateTime', '2026-12-02T10:00:00.000Z', true],
    ['dateTime', '2026-12-02', false],
    ['geopoint', '12.5 -1.25', true],
    ['geopoint', '12.5 -1.25 100 5', true],
    ['geopoint', '95 10', false],
    ['geopoint', '12.5', false],
    ['string', 'anything', true],
    ['int', '', true],
  ])('%s %s -> %s', (type, value, ok) => {
    expect(checkType(type, value) === undefined).toBe(ok);
  });
});
