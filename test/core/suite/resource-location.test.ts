import { describe, expect, it } from 'vitest';
import {
  normalizeAppPath,
  orderLocations,
  resolveLocation,
} from '../../../src/core/suite/resource-location.ts';

describe('resource locations', () => {
  it('resolves relative locations against the declaring file', () => {
    expect(resolveLocation('./suite.xml', 'profile.ccpr')).toBe('suite.xml');
    expect(resolveLocation('./modules-0/forms-0.xml', 'suite.xml')).toBe('modules-0/forms-0.xml');
    expect(resolveLocation('../x.xml', 'sub/suite.xml')).toBe('x.xml');
    expect(resolveLocation('forms/a.xml', 'sub/suite.xml')).toBe('sub/forms/a.xml');
  });

  it('maps jr://resource and jr://file to the app root, keeps http(s) URLs', () => {
    expect(resolveLocation('jr://resource/app_structure/suite.xml', 'profile.ccpr')).toBe(
      'app_structure/suite.xml',
    );
    expect(resolveLocation('jr://file/commcare/image/a.png', 'sub/suite.xml')).toBe('commcare/image/a.png');
    const url = 'https://www.commcarehq.org/a/d/apps/download/b/suite.xml';
    expect(resolveLocation(` ${url} `, 'profile.ccpr')).toBe(url);
  });

  it('never climbs above the root', () => {
    expect(normalizeAppPath('../../etc/passwd')).toBe('etc/passwd');
  });

  it('tries local locations before remote ones', () => {
    const ordered = orderLocations([
      { authority: 'remote', href: 'r' },
      { authority: 'local', href: 'l' },
    ]);
    expect(ordered.map((l) => l.href)).toEqual(['l', 'r']);
  });
});
