import { escapeXmlAttr, escapeXmlText } from '../../core/protocol/xml-escape.ts';
import type { XmlElement } from '../../core/protocol/xml-tree.ts';

/**
 * Writes a tree read by `parseXmlTree` back as XML, with the namespace declarations and
 * attributes as they were written. Comments and processing instructions were dropped by
 * the reader and stay dropped; the emulator only rewrites small files (the profile) this way.
 */
export function writeXmlTree(root: XmlElement, declaration = true): string {
  const out: string[] = declaration ? ["<?xml version='1.0' encoding='UTF-8'?>\n"] : [];
  write(root, out);
  return out.join('');
}

function write(el: XmlElement, out: string[]): void {
  out.push('<', el.name);
  for (const [prefix, uri] of Object.entries(el.nsDecls))
    out.push(' ', prefix === '' ? 'xmlns' : `xmlns:${prefix}`, '="', escapeXmlAttr(uri), '"');
  for (const a of el.attrs) out.push(' ', a.name, '="', escapeXmlAttr(a.value), '"');
  if (el.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const c of el.children) {
    if (typeof c === 'string') out.push(escapeXmlText(c));
    else write(c, out);
  }
  out.push('</', el.name, '>');
}
