import { escapeXmlAttr, escapeXmlText } from '../../protocol/xml-escape.ts';
import type { InstanceNode } from '../tree/instance-node.ts';

/**
 * Writes an instance as the submission HQ receives (JavaRosa's XFormSerializingVisitor):
 * every element in its own namespace with the prefix the form declared, the declarations
 * the form made on each element repeated, and any namespace an element or attribute needs
 * that is not yet in scope declared where it is first used. Empty elements are kept as
 * `<x/>`. `keep` decides which nodes are written (non-relevant nodes are pruned).
 */
export function serializeInstance(
  root: InstanceNode,
  keep: (n: InstanceNode) => boolean = () => true,
): string {
  const out: string[] = ["<?xml version='1.0' ?>"];
  write(root, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), out, keep);
  return out.join('');
}

function write(
  n: InstanceNode,
  scope: ReadonlyMap<string, string>,
  out: string[],
  keep: (n: InstanceNode) => boolean,
): void {
  const inScope = new Map(scope);
  const decls: [string, string][] = [];
  const declare = (prefix: string, uri: string): void => {
    if (inScope.get(prefix) === uri) return;
    if (prefix === '' && uri === '' && !inScope.has('')) return;
    inScope.set(prefix, uri);
    decls.push([prefix, uri]);
  };
  for (const [p, u] of Object.entries(n.nsDecls ?? {})) declare(p, u);
  declare(n.prefix, n.namespace);
  for (const a of n.attributes) if (a.namespace !== '' && a.prefix !== '') declare(a.prefix, a.namespace);
  const qname = n.prefix === '' ? n.name : `${n.prefix}:${n.name}`;
  let s = `<${qname}`;
  for (const [p, u] of decls)
    s += p === '' ? ` xmlns="${escapeXmlAttr(u)}"` : ` xmlns:${p}="${escapeXmlAttr(u)}"`;
  for (const a of n.attributes)
    s += ` ${a.namespace !== '' && a.prefix !== '' ? `${a.prefix}:` : ''}${a.name}="${escapeXmlAttr(a.storedValue)}"`;
  const kids = n.children.filter(keep);
  if (kids.length === 0 && n.storedValue === '') {
    out.push(`${s}/>`);
    return;
  }
  out.push(`${s}>`);
  if (kids.length === 0) out.push(escapeXmlText(n.storedValue));
  else for (const c of kids) write(c, inScope, out, keep);
  out.push(`</${qname}>`);
}
