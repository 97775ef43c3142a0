import { describe, expect, it } from 'vitest';
import { fromString, parseRestoreAll } from '../../../../src/core/protocol/restore/restore-parser.ts';

describe('restore limits are configurable', () => {
  const restore = (body: string) =>
    `<OpenRosaResponse xmlns="http://openrosa.org/http/response">${body}</OpenRosaResponse>`;
  const caseXml = (inner: string, attrs = '') =>
    `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c1" date_modified="2026-01-01" user_id="u"${attrs}>${inner}</case>`;
  const fails = async (xml: string, limits: Record<string, number>) => {
    try {
      await parseRestoreAll(fromString(xml), { limits });
    } catch (e) {
      return e as { code: string; message: string; caseId?: string };
    }
    throw new Error('expected xml-too-large');
  };

  it('children per element', async () => {
    const xml = restore(caseXml(`<update>${'<p/>'.repeat(11)}</update>`));
    expect((await parseRestoreAll(fromString(xml), { limits: { maxChildren: 11 } })).length).toBe(1);
    const e = await fails(xml, { maxChildren: 10 });
    expect(e).toMatchObject({ code: 'xml-too-large', caseId: 'c1' });
    expect(e.message).toContain('<update> with more than 10 children');
  });

  it('elements per top-level element', async () => {
    const xml = restore(caseXml(`<update>${'<p/>'.repeat(5)}</update><update>${'<q/>'.repeat(5)}</update>`));
    expect((await fails(xml, { maxElements: 10 })).message).toContain('more than 10 elements');
  });

  it('characters per top-level element', async () => {
    const xml = restore(caseXml(`<update><p>${'x'.repeat(500)}</p></update>`));
    expect((await fails(xml, { maxElementChars: 400 })).message).toContain('more than 400 characters');
    expect((await parseRestoreAll(fromString(xml), { limits: { maxElementChars: 1000 } })).length).toBe(1);
  });

  it('attributes per element, on the top-level element and inside it', async () => {
    const many = Array.from({ length: 9 }, (_, i) => ` a${i}="1"`).join('');
    expect((await fails(restore(caseXml('', many)), { maxAttributes: 8 })).message).toMatch(
      /\d+ attributes \(at most 8\)/,
    );
    const inner = restore(caseXml(`<update><p${many}/></update>`));
    expect((await fails(inner, { maxAttributes: 8 })).message).toContain('<p> with 9 attributes (at most 8)');
  });

  it('elements outside any captured block are not held, so not limited', async () => {
    const xml = restore(`<ignored>${'<x/>'.repeat(200)}</ignored>${caseXml('')}`);
    expect(
      (await parseRestoreAll(fromString(xml), { limits: { maxChildren: 10, maxElements: 10 } })).length,
    ).toBe(1);
  });
});
