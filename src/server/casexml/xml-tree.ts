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
  override readonly name: string = 'XmlParseError';
}

/**
 * A form over the parser's own limits (depth, element count). The receiver answers it
 * with 413 and stores nothing: unlike malformed XML, which HQ keeps as a submission
 * error, a form this large is refused before it costs anything more.
 */
export class XmlLimitError extends XmlParseError {
  override readonly name = 'XmlLimitError';
  readonly code = 'xml-too-large';
}

export interface XmlTreeLimits {
  /** Deepest element nesting accepted (the root is depth 1). */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
}

/**
 * Limits that keep hostile input bounded. Real forms are a few levels deep (groups and
 * repeats) and a few thousand elements at most; a 10 MB form of empty elements would be
 * 2.5M of them. 200k elements keep the tree under ~50 MB.
 */
export const DEFAULT_XML_LIMITS: XmlTreeLimits = { maxDepth: 200, maxElements: 200_000 };

const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Parses a form into a tree. Stops at the first limit hit by throwing from inside the
 * parser's callback: saxes resolves each element's namespace by walking the open-tag
 * stack, so letting it run on past the depth limit made a 100k-deep document cost
 * O(depth^2) (minutes); with the depth capped the walk is bounded and the cost linear.
 */
export function parseXmlTree(xml: string, limits: XmlTreeLimits = DEFAULT_XML_LIMITS): XNode {
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
    if (++count > limits.maxElements)
      throw new XmlLimitError(`too many elements (more than ${limits.maxElements})`);
    if (stack.length >= limits.maxDepth)
      throw new XmlLimitError(`elements nested too deeply (more than ${limits.maxDepth} levels)`);
    let attrs = NO_ATTRS;
    for (const a of Object.values(tag.attributes)) {
      if (a.prefix === 'xmlns' || (a.prefix === '' && a.local === 'xmlns')) continue;
      if (attrs === NO_ATTRS) attrs = {};
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
    if (e instanceof XmlLimitError) throw e;
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
