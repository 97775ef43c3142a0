import { attr, type XmlElement } from '../../protocol/xml-tree.ts';
import type { TextDef, TextPart } from '../form-def.ts';
import { compileExpression } from './compile-expression.ts';

const ITEXT_CALL = /^\s*(?:[A-Za-z_][\w.-]*:)?itext\s*\(\s*(.*?)\s*\)\s*$/s;
const QUOTED = /^(['"])(.*)\1$/s;

/**
 * Mixed text with `<output value="..."/>` (or `ref`) in it, as labels and itext values
 * carry it; the outputs are evaluated when the text is shown (JavaRosa's
 * XFormParser.getLabel / getXMLText turn outputs into `${n}` placeholders for the same).
 */
export function parseTextParts(el: XmlElement, file: string | undefined, where: string): TextPart[] {
  const parts: TextPart[] = [];
  const push = (s: string): void => {
    const last = parts[parts.length - 1];
    if (typeof last === 'string') parts[parts.length - 1] = last + s;
    else parts.push(s);
  };
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (typeof c === 'string') push(c);
      else if (c.local === 'output') {
        const src = attr(c, 'value') ?? attr(c, 'ref');
        if (src !== undefined && src.trim() !== '')
          parts.push({ expr: compileExpression(src, { file, ref: where, attribute: 'output' }) });
      } else walk(c);
    }
  };
  walk(el);
  return normalizeSpace(parts);
}

/** Collapses the indentation whitespace of the XML source at the ends of the text. */
function normalizeSpace(parts: TextPart[]): TextPart[] {
  const first = parts[0];
  if (typeof first === 'string') parts[0] = first.replace(/^\s+/, '');
  const last = parts[parts.length - 1];
  if (typeof last === 'string') parts[parts.length - 1] = last.replace(/\s+$/, '');
  return parts.filter((p) => p !== '');
}

/**
 * A `<label>`/`<hint>`: `ref="jr:itext('id')"` (the id may be computed, as in itemsets),
 * else the inline text.
 */
export function parseTextDef(
  el: XmlElement | undefined,
  file: string | undefined,
  where: string,
): TextDef | undefined {
  if (el === undefined) return undefined;
  const ref = attr(el, 'ref');
  if (ref !== undefined && ref.trim() !== '') return parseTextRef(ref, file, where);
  return { parts: parseTextParts(el, file, where) };
}

/**
 * A text reference written as an attribute: `jr:itext('id')` (static id), `jr:itext(path)`
 * (computed id) or a plain expression/literal (jr:constraintMsg may be literal text).
 */
export function parseTextRef(ref: string, file: string | undefined, where: string): TextDef {
  const call = ITEXT_CALL.exec(ref);
  if (call) {
    const arg = call[1] ?? '';
    const quoted = QUOTED.exec(arg);
    if (quoted) return { itextId: quoted[2] ?? '' };
    return { itextExpr: compileExpression(arg, { file, ref: where, attribute: 'jr:itext' }) };
  }
  return { parts: [ref] };
}

/** An itemset label's `ref`: a path relative to the item, or a `jr:itext(...)` call. */
export function parseItemsetLabel(ref: string, file: string | undefined, where: string): TextDef {
  if (ITEXT_CALL.test(ref)) return parseTextRef(ref, file, where);
  return { parts: [{ expr: compileExpression(ref, { file, ref: where, attribute: 'label ref' }) }] };
}
