import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { writeCaseBlock } from '../../../src/core/protocol/casexml/case-block-writer.ts';
import { escapeXmlAttr, escapeXmlText } from '../../../src/core/protocol/xml-escape.ts';

describe('escapeXml', () => {
  it('escapes markup and drops characters XML cannot carry', () => {
    expect(escapeXmlText('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    expect(escapeXmlText('x\u0001y\uFFFEz')).toBe('xyz');
    expect(escapeXmlText('lone \uD800 high')).toBe('lone  high');
    expect(escapeXmlText('pair 😀 ok')).toBe('pair 😀 ok');
    expect(escapeXmlAttr('"q"\n\t')).toBe('&quot;q&quot;&#10;&#9;');
  });
});

describe('writeCaseBlock', () => {
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    parseAttributeValue: false,
    preserveOrder: true,
  });

  it('writes actions in the given order with HQ element order inside create', () => {
    const xml = writeCaseBlock({
      caseId: 'c1',
      dateModified: '2026-01-01T00:00:00.000Z',
      userId: 'u1',
      actions: [
        { kind: 'create', caseType: 'household', caseName: 'A & B', ownerId: 'u1' },
        {
          kind: 'update',
          fields: [
            ['village', '<north>'],
            ['empty', ''],
          ],
        },
        {
          kind: 'index',
          entries: [
            { identifier: 'parent', caseType: 'household', target: 'p1' },
            { identifier: 'host', caseType: 'h', target: 'h1', relationship: 'extension' },
          ],
        },
        { kind: 'attachment', entries: [{ name: 'photo', src: '1.jpg', from: 'local' }] },
        { kind: 'close' },
      ],
    });
    expect(xml).toBe(
      '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c1" date_modified="2026-01-01T00:00:00.000Z" user_id="u1">' +
        '<create><case_type>household</case_type><case_name>A &amp; B</case_name><owner_id>u1</owner_id></create>' +
        '<update><village>&lt;north&gt;</village><empty/></update>' +
        '<index><parent case_type="household">p1</parent><host case_type="h" relationship="extension">h1</host></index>' +
        '<attachment><photo src="1.jpg" from="local"/></attachment>' +
        '<close/></case>',
    );
    // and it is well-formed XML
    expect(() => parser.parse(xml)).not.toThrow();
  });

  it('rejects property names that are not XML names', () => {
    expect(() =>
      writeCaseBlock({ caseId: 'c', actions: [{ kind: 'update', fields: [['1bad', 'x']] }] }),
    ).toThrow(/invalid property name/);
    expect(() =>
      writeCaseBlock({ caseId: 'c', actions: [{ kind: 'update', fields: [['a b', 'x']] }] }),
    ).toThrow(TypeError);
  });
});
