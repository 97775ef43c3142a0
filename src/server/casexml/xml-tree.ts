import { SaxesParser } from 'saxes';

/**
 * A small namespace-resolved element tree for submitted forms. Forms are small (HQ caps
 * them at 10 MB, PROTOCOL.md 7.3), so a tree is fine here; restores, which can be huge,
 * are written as strings and never parsed on the server.
 */
export interface XNode {
  /** Local name without prefix. */
  local: string;
  /** Resolved namespace URI ('' when none). */
  ns: string;
  /** Attributes by their local name (unprefixed and prefixed alike; xmlns declarations excluded). */
  attrs: Record<string, string>;
  children: XNode[];
  /** Direct text content (text and CDATA), concatenated. */
  text: string;
}

export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
}

/** Limits that keep hostile input bounded (DESIGN.md reliability targets). */
const MAX_DEPTH = 200;
const MAX_ELEMENTS = 500_000;

export function parseXmlTree(xml: string): XNode {
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: XNode[] = [];
  let root: XNode | undefined;
  let count = 0;
  let failure: Error | undefined;
  parser.on('error', (e) => {
    failure ??= e;
  });
  parser.on('doctype', () => {
    // saxes does not expand internal entities, but a DOCTYPE has no business in a form.
    failure ??= new XmlParseError('DOCTYPE is not allowed in a form');
  });
  parser.on('opentag', (tag) => {
    if (++count > MAX_ELEMENTS) failure ??= new XmlParseError('too many elements');
    if (stack.length >= MAX_DEPTH) failure ??= new XmlParseError('elements nested too deeply');
    const attrs: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      if (a.prefix === 'xmlns' || (a.prefix === '' && a.local === 'xmlns')) continue;
      attrs[a.local] = a.value;
    }
    const node: XNode = { local: tag.local, ns: tag.uri, attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  try {
    parser.write(xml).close();
  } catch (e) {
    failure ??= e instanceof Error ? e : new Error(String(e));
  }
  if (failure) throw new XmlParseError(failure.message, { cause: failure });
  if (!root) throw new XmlParseError('no root element');
  return root;
}

/** Depth-first walk; `visit` returns false to skip a subtree. */
export function walk(node: XNode, visit: (n: XNode) => boolean): void {
  if (!visit(node)) return;
  for (const c of node.children) walk(c, visit);
}

export function child(node: XNode, local: string): XNode | undefined {
  return node.children.find((c) => c.local === local);
}
