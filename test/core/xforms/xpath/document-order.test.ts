import { describe, expect, it } from 'vitest';
import type { InstanceNode, XPathNode } from '../../../../src/core/xforms/tree/instance-node.ts';
import { compareDocumentOrder, sortDocumentOrder } from '../../../../src/core/xforms/xpath/document-order.ts';
import { docFromXml, evalAt, values } from './xpath-test-helpers.ts';

describe('document order', () => {
  const doc = docFromXml('<r a="1" b="2"><x><y>1</y></x><z>2</z></r>');
  const r = doc.children[0] as InstanceNode;
  const x = r.child('x') as InstanceNode;
  const y = x.child('y') as InstanceNode;
  const z = r.child('z') as InstanceNode;
  const [a, b] = r.attributes as [XPathNode, XPathNode];

  it('orders an element, then its attributes, then its descendants', () => {
    const shuffled: XPathNode[] = [z, y, b, x, a, r, doc];
    expect(sortDocumentOrder(shuffled)).toEqual([doc, r, a, b, x, y, z]);
    expect(compareDocumentOrder(a, x)).toBeLessThan(0);
    expect(compareDocumentOrder(y, z)).toBeLessThan(0);
    expect(compareDocumentOrder(z, z)).toBe(0);
  });

  it('drops duplicates', () => {
    expect(sortDocumentOrder([z, x, z, x])).toEqual([x, z]);
  });

  it('orders nodes of different documents consistently', () => {
    const other = docFromXml('<o><p/></o>');
    const p = (other.children[0] as InstanceNode).children[0] as InstanceNode;
    const one = compareDocumentOrder(p, y);
    expect(one).not.toBe(0);
    expect(compareDocumentOrder(y, p)).toBe(-Math.sign(one) * Math.abs(compareDocumentOrder(y, p)));
    expect(sortDocumentOrder([p, y, x])).toEqual(one < 0 ? [p, x, y] : [x, y, p]);
  });

  it('sorts wide sibling lists correctly', () => {
    const wide = docFromXml(`<l>${Array.from({ length: 100 }, (_, i) => `<i>${i}</i>`).join('')}</l>`);
    const items = [...(wide.children[0] as InstanceNode).children].reverse();
    expect(sortDocumentOrder(items).map((n) => (n as InstanceNode).value)).toEqual(
      Array.from({ length: 100 }, (_, i) => String(i)),
    );
  });

  it('path results come back in document order without duplicates', () => {
    const d = docFromXml('<d><g><i>1</i><g><i>2</i></g></g><i>3</i></d>');
    expect(values(evalAt('//i', d))).toEqual(['1', '2', '3']);
    expect(values(evalAt('//g/i', d))).toEqual(['1', '2']);
    expect(values(evalAt('//i/..', d))).toEqual(['123', '12', '2']);
    expect(values(evalAt('/d/i | //g/i', d))).toEqual(['1', '2', '3']);
    expect(values(evalAt('//i[1]', d))).toEqual(['1', '2', '3']);
    expect(values(evalAt('(//i)[1]', d))).toEqual(['1']);
    expect(values(evalAt('//g/i/ancestor::*', d))).toEqual(['123', '12', '2']);
    expect(values(evalAt('/d/i/preceding::*', d))).toEqual(['12', '1', '2', '2']);
    expect(values(evalAt('//g/g/i/following::*', d))).toEqual(['3']);
  });
});
