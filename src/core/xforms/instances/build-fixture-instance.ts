import type { XmlNode } from '../../protocol/restore/restore-types.ts';
import { InstanceNode } from '../tree/instance-node.ts';

/**
 * A fixture from the restore (`<fixture id><root>...</root></fixture>`, its root stored as
 * an `XmlNode`) as an instance document, so `instance('item-list:City')/City_list/City`
 * walks it as on the phone. Restore fixtures are read without namespaces; names keep
 * their prefix-free local part.
 */
export function buildFixtureInstance(root: XmlNode): InstanceNode {
  const doc = InstanceNode.document();
  doc.appendChild(convert(root));
  return doc;
}

function convert(x: XmlNode): InstanceNode {
  const colon = x.name.indexOf(':');
  const n = new InstanceNode('element', colon >= 0 ? x.name.slice(colon + 1) : x.name);
  for (const [k, v] of Object.entries(x.attributes)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const c = k.indexOf(':');
    n.setAttribute(c >= 0 ? k.slice(c + 1) : k, v);
  }
  if (x.children.length === 0) n.value = x.text;
  else for (const c of x.children) n.appendChild(convert(c));
  return n;
}
