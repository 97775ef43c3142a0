import { SaxesParser, type SaxesTagNS } from 'saxes';
import { XmlError } from '../errors/xml-error.ts';

/**
 * A small namespace-aware XML tree for documents that are read whole: XForms, suites,
 * profiles. Restores stream through their own parser; this is for files of a few MB at
 * most, so it keeps every node and bounds the size instead of streaming.
 *
 * Text is kept as string children in document order (mixed content matters in itext
 * labels with `<output>`); comments and processing instructions are dropped. A DOCTYPE is
 * refused: CommCare files never carry one, and refusing it shuts out entity expansion.
 */
export interface XmlAttr {
  /** Qualified name as written (`jr:constraintMsg`). */
  name: string;
  local: string;
  prefix: string;
  /** Namespace URI, `''` when none. */
  uri: string;
  value: string;
}

export interface XmlElement {
  /** Qualified name as written (`h:html`). */
  name: string;
  local: string;
  prefix: string;
  uri: string;
  attrs: XmlAttr[];
  children: XmlChild[];
  /** Namespace declarations made on this element (`prefix -> uri`, `''` for the default). */
  nsDecls: Record<string, string>;
  /** 1-based line of the start tag, for error messages. */
  line: number;
}

export type XmlChild = XmlElement | string;

export interface ParseXmlTreeOptions {
  /** Named in errors (`modules-0/forms-0.xml`). */
  file?: string;
  maxDepth?: number;
  maxElements?: number;
}

const DEFAULT_MAX_DEPTH = 256;
const DEFAULT_MAX_ELEMENTS = 2_000_000;

export function parseXmlTree(xml: string, opts: ParseXmlTreeOptions = {}): XmlElement {
  const where = opts.file === undefined ? '' : `${opts.file}: `;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxElements = opts.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let failure: XmlError | undefined;
  const fail = (message: string): void => {
    failure ??= new XmlError('xml-malformed', `${where}${message}`, {
      line: parser.line,
      column: parser.column,
    });
  };

  parser.on('error', (e) => {
    fail(e.message);
  });
  parser.on('doctype', () => {
    fail('a DOCTYPE is not allowed');
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (failure) return;
    count++;
    if (count > maxElements) return fail(`more than ${maxElements} elements`);
    if (stack.length >= maxDepth) return fail(`elements nested deeper than ${maxDepth}`);
    const attrs: XmlAttr[] = [];
    const nsDecls: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      if (a.prefix === 'xmlns') nsDecls[a.local] = a.value;
      else if (a.name === 'xmlns') nsDecls[''] = a.value;
      else attrs.push({ name: a.name, local: a.local, prefix: a.prefix, uri: a.uri, value: a.value });
    }
    const el: XmlElement = {
      name: tag.name,
      local: tag.local,
      prefix: tag.prefix,
      uri: tag.uri,
      attrs,
      children: [],
      nsDecls,
      line: parser.line,
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string): void => {
    const parent = stack[stack.length - 1];
    if (!parent || failure) return;
    const last = parent.children[parent.children.length - 1];
    if (typeof last === 'string') parent.children[parent.children.length - 1] = last + t;
    else parent.children.push(t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  try {
    parser.write(xml).close();
  } catch (e) {
    if (!failure) fail(e instanceof Error ? e.message : String(e));
  }
  if (failure) throw failure;
  if (!root) throw new XmlError('xml-malformed', `${where}the document has no root element`);
  return root;
}

/** The element's child elements, optionally only those with this local name. */
export function childElements(el: XmlElement, local?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c !== 'string' && (local === undefined || c.local === local)) out.push(c);
  }
  return out;
}

/** The first child element with this local name. */
export function childElement(el: XmlElement, local: string): XmlElement | undefined {
  for (const c of el.children) if (typeof c !== 'string' && c.local === local) return c;
  return undefined;
}

/** An attribute's value by qualified name (`jr:constraintMsg`) or local name. */
export function attr(el: XmlElement, name: string): string | undefined {
  for (const a of el.attrs) if (a.name === name) return a.value;
  if (!name.includes(':')) return undefined;
  const local = name.slice(name.indexOf(':') + 1);
  // Prefixes vary between files; fall back to the local part when the written prefix differs.
  for (const a of el.attrs) if (a.local === local && a.prefix !== '') return a.value;
  return undefined;
}

/** Concatenated text of the element and its descendants. */
export function textContent(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : textContent(c);
  return s;
}
