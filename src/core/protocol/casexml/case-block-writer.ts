import { NS } from '../namespaces.ts';
import { escapeXmlAttr, escapeXmlText } from '../xml-escape.ts';
import type { CaseAction, CaseBlock } from './case-types.ts';

export interface CaseBlockWriteOptions {
  /** Write `xmlns` on the `<case>` element (default true). */
  withNamespace?: boolean;
}

/** An XML element name must be a name; property names come from users and apps. */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;

function checkName(name: string, what: string): string {
  if (!NAME_RE.test(name)) throw new TypeError(`invalid ${what} name for CaseXML: ${JSON.stringify(name)}`);
  return name;
}

function el(name: string, value: string): string {
  return value === '' ? `<${name}/>` : `<${name}>${escapeXmlText(value)}</${name}>`;
}

function writeAction(a: CaseAction): string {
  switch (a.kind) {
    case 'create': {
      // Element order as HQ writes it (PROTOCOL.md 3.9): case_type, case_name, owner_id.
      let s = '<create>';
      if (a.caseType !== undefined) s += el('case_type', a.caseType);
      if (a.caseName !== undefined) s += el('case_name', a.caseName);
      if (a.ownerId !== undefined) s += el('owner_id', a.ownerId);
      return `${s}</create>`;
    }
    case 'update': {
      if (a.fields.length === 0) return '';
      let s = '<update>';
      for (const [k, v] of a.fields) s += el(checkName(k, 'property'), v);
      return `${s}</update>`;
    }
    case 'close':
      return '<close/>';
    case 'index': {
      let s = '<index>';
      for (const e of a.entries) {
        const rel =
          e.relationship !== undefined && e.relationship !== 'child'
            ? ` relationship="${escapeXmlAttr(e.relationship)}"`
            : '';
        const name = checkName(e.identifier, 'index');
        s += `<${name} case_type="${escapeXmlAttr(e.caseType)}"${rel}>${escapeXmlText(e.target)}</${name}>`;
      }
      return `${s}</index>`;
    }
    case 'attachment': {
      let s = '<attachment>';
      for (const e of a.entries) {
        const name = checkName(e.name, 'attachment');
        let attrs = '';
        if (e.src !== undefined) attrs += ` src="${escapeXmlAttr(e.src)}"`;
        if (e.from !== undefined) attrs += ` from="${escapeXmlAttr(e.from)}"`;
        if (e.fileName !== undefined) attrs += ` name="${escapeXmlAttr(e.fileName)}"`;
        s += `<${name}${attrs}/>`;
      }
      return `${s}</attachment>`;
    }
  }
}

/**
 * Serialises one CaseXML 2.0 block (PROTOCOL.md 4.1) with its actions in the given order.
 * Used by the form composer and by the emulator's restore generation.
 */
export function writeCaseBlock(block: CaseBlock, options: CaseBlockWriteOptions = {}): string {
  let s = `<case${options.withNamespace === false ? '' : ` xmlns="${NS.caseV2}"`} case_id="${escapeXmlAttr(block.caseId)}"`;
  if (block.dateModified !== undefined) s += ` date_modified="${escapeXmlAttr(block.dateModified)}"`;
  if (block.userId !== undefined) s += ` user_id="${escapeXmlAttr(block.userId)}"`;
  s += '>';
  for (const a of block.actions) s += writeAction(a);
  return `${s}</case>`;
}
