import { describe, expect, it } from 'vitest';
import { parseAppStrings } from '../../../src/core/suite/app-strings.ts';

describe('parseAppStrings', () => {
  it('reads key=value lines, skipping comments, blank and value-less lines', () => {
    const m = parseAppStrings('# header\n\na=1\r\nb = two words \rnovalue=\njunk line\nc=x=y');
    expect([...m]).toEqual([
      ['a', '1'],
      // the phone trims the line, not the value: the space after '=' stays
      ['b', ' two words'],
      ['c', 'x=y'],
    ]);
  });

  it('cuts a comment after a value but keeps an escaped #', () => {
    const m = parseAppStrings('a=Visit # internal note\nb=Item \\#3');
    expect(m.get('a')).toBe('Visit');
    expect(m.get('b')).toBe('Item #3');
  });

  it('decodes escapes: \\n \\t \\\\ \\= \\: \\uXXXX, keeps unknown ones', () => {
    const m = parseAppStrings('a=line1\\nline2\\tend\nb=back\\\\slash \\= \\: \\u00e9\\u4e2d\nc=keep \\q');
    expect(m.get('a')).toBe('line1\nline2\tend');
    expect(m.get('b')).toBe('back\\slash = : é中');
    expect(m.get('c')).toBe('keep \\q');
  });

  it('ignores a byte-order mark and keeps UTF-8 text', () => {
    expect(parseAppStrings('\ufeffmodules.m0=Ménages').get('modules.m0')).toBe('Ménages');
  });

  it('lets a later line override an earlier one', () => {
    expect(parseAppStrings('a=1\na=2').get('a')).toBe('2');
  });
});
