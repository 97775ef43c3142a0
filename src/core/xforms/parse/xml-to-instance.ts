import type { XmlElement } from '../../protocol/xml-tree.ts';
import { InstanceNode } from '../tree/instance-node.ts';

/**
 * Copies an instance's XML into an instance tree, keeping each element's namespace and
 * written prefix and the namespace declarations made on it, so the submission can be
 * written back as HQ's app builder declared it (root xmlns, `orx:meta`, `n0:case`).
 * Like JavaRosa's TreeElement, a node holds a value or children: text next to child
 * elements is whitespace in practice and is dropped.
 */
export function xmlToInstance(el: XmlElement): InstanceNode {
  const node = new InstanceNode('element', el.local, el.uri, el.prefix);
  if (Object.keys(el.nsDecls).length > 0) node.nsDecls = { ...el.nsDecls };
  for (const a of el.attrs) node.setAttribute(a.local, a.value, a.uri, a.prefix);
  let text = '';
  let hasElements = false;
  for (const c of el.children) {
    if (typeof c === 'string') text += c;
    else {
      hasElements = true;
      node.appendChild(xmlToInstance(c));
    }
  }
  // JavaRosa trims instance values when it reads a form (XFormParser loadInstanceData).
  if (!hasElements) node.value = text.trim();
  return node;
}
