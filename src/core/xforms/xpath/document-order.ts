import type { InstanceNode, XPathNode } from '../tree/instance-node.ts';

/**
 * Document order for node-sets (XPath 1.0 section 5): an element comes before its
 * attributes, which come before its children. Nodes of different instance documents are
 * ordered by the first time each document's root was seen, which is stable for the life
 * of the process (XPath leaves the order between documents to the implementation).
 */

const rootRank = new WeakMap<InstanceNode, number>();
let nextRank = 0;

function rankOf(root: InstanceNode): number {
  let r = rootRank.get(root);
  if (r === undefined) {
    r = nextRank++;
    rootRank.set(root, r);
  }
  return r;
}

/** `[rootRank, childIndex..., (attributeIndex - attributeCount)]`: compared lexicographically. */
type ChildIndex = (parent: InstanceNode, child: InstanceNode) => number;

const plainIndex: ChildIndex = (parent, child) => parent.children.indexOf(child);

/** An index lookup that maps each parent's children once, so sorting stays n log n. */
function cachedIndex(): ChildIndex {
  const maps = new Map<InstanceNode, Map<InstanceNode, number>>();
  return (parent, child) => {
    if (parent.children.length < 16) return parent.children.indexOf(child);
    let m = maps.get(parent);
    if (m === undefined) {
      const fresh = new Map<InstanceNode, number>();
      parent.children.forEach((c, i) => {
        fresh.set(c, i);
      });
      maps.set(parent, fresh);
      m = fresh;
    }
    return m.get(child) ?? -1;
  };
}

function orderKey(node: XPathNode, indexOf: ChildIndex = plainIndex): number[] {
  const key: number[] = [];
  let el: InstanceNode;
  if (node.kind === 'attribute') {
    el = node.owner;
    // Negative, so attributes sort before the element's children (indices >= 0).
    key.push(el.attributes.indexOf(node) - el.attributes.length);
  } else {
    el = node;
  }
  while (el.parent !== null) {
    key.push(indexOf(el.parent, el));
    el = el.parent;
  }
  key.push(rankOf(el));
  return key.reverse();
}

function compareKeys(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function compareDocumentOrder(a: XPathNode, b: XPathNode): number {
  return a === b ? 0 : compareKeys(orderKey(a), orderKey(b));
}

/** Sorts in document order and drops duplicates; returns a new array. */
export function sortDocumentOrder(nodes: readonly XPathNode[]): XPathNode[] {
  if (nodes.length < 2) return nodes.slice();
  const seen = new Set<XPathNode>();
  const keyed: { node: XPathNode; key: number[] }[] = [];
  const indexOf = cachedIndex();
  for (const node of nodes) {
    if (seen.has(node)) continue;
    seen.add(node);
    keyed.push({ node, key: orderKey(node, indexOf) });
  }
  keyed.sort((x, y) => compareKeys(x.key, y.key));
  return keyed.map((k) => k.node);
}
