import { FieldsimError } from '../../errors/fieldsim-error.ts';
import type { CaseAction, CaseBlock } from '../casexml/case-types.ts';
import { NS } from '../namespaces.ts';
import { escapeXmlAttr, escapeXmlText } from '../xml-escape.ts';
import type { ComposedForm, FormNode, FormSpec } from './form-types.ts';

/**
 * Composes an XForm instance the way HQ's app builder lays one out (PROTOCOL.md 6, 4.1):
 *
 *   <data xmlns="{form xmlns}" name=".." version=".." uiVersion="..">
 *     ...answers, groups, repeats, and <case xmlns="http://commcarehq.org/case/transaction/v2">
 *        blocks anywhere in the tree...
 *     <orx:meta xmlns:orx="http://openrosa.org/jr/xforms" xmlns:cc="http://commcarehq.org/xforms">
 *       deviceID timeStart timeEnd username userID instanceID cc:appVersion drift [cc:location]
 *     </orx:meta>
 *   </data>
 *
 * Rules taken from HQ (hq:docs/api/form-submission.rst; HQ-built form definitions):
 * meta is a direct child of the root; instanceID is a bare uuid4 (no `uuid:` prefix);
 * a case block's `date_modified` is bound to meta/timeEnd, its `user_id` to meta/userID,
 * and create/owner_id defaults to meta/userID. ODK servers instead expect a `uuid:`
 * prefix and root `id`/`version` attributes (ODK XForms spec, "metadata").
 *
 * Output is byte-for-byte deterministic for the same spec (no clocks or ids are read here).
 * Characters XML 1.0 cannot carry (C0 controls, lone surrogates, U+FFFE/F) are dropped;
 * everything else, including characters outside the BMP, is written as UTF-8.
 *
 * Written as strings over the shared escaping (protocol/xml-escape.ts) rather than with
 * xmlbuilder2: the namespace layout is fixed (default namespace on the root and on each
 * case block, prefixed orx/cc on meta, names checked as NCNames), and dropping the DOM
 * builder keeps Node built-ins (`events`, `url`) and ~100 KB of code out of the PWA bundle.
 */

const NCNAME_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';

function checkName(name: string, what: string): string {
  if (!NCNAME_RE.test(name))
    throw new FieldsimError(
      'invalid-argument',
      `Invalid ${what} name for a form instance: ${JSON.stringify(name)}`,
    );
  return name;
}

/** Fills the HQ bindings a block may leave out: date_modified, user_id, create/owner_id. */
export function withMetaDefaults(block: CaseBlock, timeEnd: string, userId: string): CaseBlock {
  const actions: CaseAction[] = block.actions.map((a) =>
    a.kind === 'create' && a.ownerId === undefined ? { ...a, ownerId: userId } : a,
  );
  return { ...block, dateModified: block.dateModified ?? timeEnd, userId: block.userId ?? userId, actions };
}

function attrs(a: Record<string, string> | undefined): string {
  if (!a) return '';
  let s = '';
  for (const [k, v] of Object.entries(a)) s += ` ${checkName(k, 'attribute')}="${escapeXmlAttr(v)}"`;
  return s;
}

/** Empty values become `<x/>`, the way HQ and CommCare write unanswered questions. */
function el(name: string, value: string, at = ''): string {
  const text = escapeXmlText(value);
  return text === '' ? `<${name}${at}/>` : `<${name}${at}>${text}</${name}>`;
}

function writeCase(block: CaseBlock): string {
  if (block.caseId === '') throw new FieldsimError('invalid-argument', 'A case block needs a case_id');
  const at: Record<string, string> = { case_id: block.caseId };
  if (block.dateModified !== undefined) at.date_modified = block.dateModified;
  if (block.userId !== undefined) at.user_id = block.userId;
  let s = `<case xmlns="${NS.caseV2}"${attrs(at)}>`;
  for (const a of block.actions) {
    switch (a.kind) {
      case 'create':
        // Element order as HQ writes and documents it: case_type, case_name, owner_id.
        s += '<create>';
        if (a.caseType !== undefined) s += el('case_type', a.caseType);
        if (a.caseName !== undefined) s += el('case_name', a.caseName);
        if (a.ownerId !== undefined) s += el('owner_id', a.ownerId);
        s += '</create>';
        break;
      case 'update':
        if (a.fields.length === 0) break;
        s += '<update>';
        for (const [k, v] of a.fields) s += el(checkName(k, 'case property'), v);
        s += '</update>';
        break;
      case 'close':
        s += '<close/>';
        break;
      case 'index':
        s += '<index>';
        for (const x of a.entries) {
          const ia: Record<string, string> = { case_type: x.caseType };
          // `child` is the default and HQ omits it (PROTOCOL.md 3.9, 4.2).
          if (x.relationship !== undefined && x.relationship !== 'child') ia.relationship = x.relationship;
          s += el(checkName(x.identifier, 'index'), x.target, attrs(ia));
        }
        s += '</index>';
        break;
      case 'attachment':
        s += '<attachment>';
        for (const x of a.entries) {
          const aa: Record<string, string> = {};
          if (x.src !== undefined) aa.src = x.src;
          if (x.from !== undefined) aa.from = x.from;
          if (x.fileName !== undefined) aa.name = x.fileName;
          s += `<${checkName(x.name, 'attachment')}${attrs(aa)}/>`;
        }
        s += '</attachment>';
        break;
    }
  }
  return `${s}</case>`;
}

function writeNodes(nodes: FormNode[], fill: (b: CaseBlock) => CaseBlock, blocks: CaseBlock[]): string {
  let s = '';
  for (const n of nodes) {
    if ('caseBlock' in n) {
      const b = fill(n.caseBlock);
      blocks.push(b);
      s += writeCase(b);
      continue;
    }
    const name = checkName(n.name, 'element');
    if (name === 'meta') throw new FieldsimError('invalid-argument', '`meta` is written by the composer');
    if ('children' in n) {
      const inner = writeNodes(n.children, fill, blocks);
      s +=
        inner === ''
          ? `<${name}${attrs(n.attributes)}/>`
          : `<${name}${attrs(n.attributes)}>${inner}</${name}>`;
    } else s += el(name, n.value, attrs(n.attributes));
  }
  return s;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function composeForm(spec: FormSpec): ComposedForm {
  const { meta } = spec;
  const odk = spec.mode === 'odk';
  if (spec.xmlns === '')
    // HQ answers 500 "Form is missing a required field: XMLNS" (test_missing_xmlns).
    throw new FieldsimError('invalid-argument', 'A form instance needs an xmlns');
  const instanceId =
    odk && !meta.instanceId.startsWith('uuid:') ? `uuid:${meta.instanceId}` : meta.instanceId;
  const rootAttrs: Record<string, string> = {};
  if (odk) {
    if (spec.formId !== undefined) rootAttrs.id = spec.formId;
    if (spec.version !== undefined) rootAttrs.version = spec.version;
  } else {
    if (spec.name !== undefined) rootAttrs.name = spec.name;
    if (spec.version !== undefined) rootAttrs.version = spec.version;
    if (spec.uiVersion !== undefined) rootAttrs.uiVersion = spec.uiVersion;
  }
  const root = checkName(spec.rootName ?? 'data', 'root');
  const blocks: CaseBlock[] = [];
  const body = writeNodes(spec.children, (b) => withMetaDefaults(b, meta.timeEnd, meta.userId), blocks);
  let m = `<orx:meta xmlns:orx="${NS.orx}" xmlns:cc="${NS.cc}">`;
  m += el('orx:deviceID', meta.deviceId);
  m += el('orx:timeStart', meta.timeStart);
  m += el('orx:timeEnd', meta.timeEnd);
  m += el('orx:username', meta.username);
  m += el('orx:userID', meta.userId);
  m += el('orx:instanceID', instanceId);
  m += el('cc:appVersion', meta.appVersion ?? '');
  m += el('orx:drift', meta.drift ?? '');
  if (meta.location !== undefined) m += el('cc:location', meta.location);
  m += '</orx:meta>';
  const xml = `${XML_DECL}<${root} xmlns="${escapeXmlAttr(spec.xmlns)}"${attrs(rootAttrs)}>${body}${m}</${root}>`;
  return {
    xml,
    instanceId,
    xmlns: spec.xmlns,
    formName: spec.name ?? spec.rootName ?? 'data',
    caseBlocks: blocks,
    size: utf8Length(xml),
  };
}

/** XSD dateTime in UTC with milliseconds, the form CommCare writes for timeStart/timeEnd. */
export function xsdDateTime(ms: number): string {
  return new Date(ms).toISOString();
}
