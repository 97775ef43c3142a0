import { describe, expect, it } from 'vitest';
import { parseXmlTree, XmlLimitError, XmlParseError } from '../../src/server/casexml/xml-tree.ts';

describe('form XML limits', () => {
  it('stops at the depth limit at once: 100k nested elements cost milliseconds, not minutes', () => {
    const depth = 100_000;
    const xml = `<data xmlns="urn:x">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</data>`;
    const t = performance.now();
    let error: unknown;
    try {
      parseXmlTree(xml);
    } catch (e) {
      error = e;
    }
    expect(performance.now() - t).toBeLessThan(500);
    expect(error).toBeInstanceOf(XmlLimitError);
    expect((error as XmlLimitError).code).toBe('xml-too-large');
    expect((error as Error).message).toContain('nested too deeply');
  });

  it('stops at the element limit without reading the rest', () => {
    const xml = `<data xmlns="urn:x">${'<a/>'.repeat(2_500_000)}</data>`;
    const t = performance.now();
    expect(() => parseXmlTree(xml)).toThrow(/too many elements/);
    expect(performance.now() - t).toBeLessThan(2000);
    expect(() => parseXmlTree('<d><a/><a/><a/></d>', { maxDepth: 10, maxElements: 3 })).toThrow(
      XmlLimitError,
    );
    expect(parseXmlTree('<d><a/><a/></d>', { maxDepth: 10, maxElements: 3 }).children).toHaveLength(2);
  });

  it('keeps malformed XML a plain parse error (stored as a submission error, as HQ does)', () => {
    let error: unknown;
    try {
      parseXmlTree('<data xmlns="urn:x"><a></data>');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(XmlParseError);
    expect(error).not.toBeInstanceOf(XmlLimitError);
  });

  it('reads attributes and namespaces as before', () => {
    const root = parseXmlTree('<d xmlns="urn:x" xmlns:p="urn:p"><p:c id="1" p:k="v"/><e/></d>');
    expect(root.children[0]).toMatchObject({ local: 'c', ns: 'urn:p', attrs: { id: '1', k: 'v' } });
    expect(root.children[1]).toMatchObject({ local: 'e', ns: 'urn:x', attrs: {} });
  });
});
