import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { FieldsimError } from '../../errors/fieldsim-error.ts';
import type { CaseAction, CaseBlock } from '../casexml/case-types.ts';
import { NS } from '../namespaces.ts';
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
 * Characters XML 1.0 cannot carry (C0 controls, lone surrogates) are dropped; everything
 * else, including characters outside the BMP, is written as UTF-8.
 */

const NCNAME_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const XML_DECL = { version: '1.0', encoding: 'UTF-8' } as const;

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

/** Empty values become `<x/>`, the way HQ and CommCare write unanswered questions. */
function put(el: XMLBuilder, value: string): void {
  if (value !== '') el.txt(value);
}

function writeCase(parent: XMLBuilder, block: CaseBlock): void {
  const ns = NS.caseV2;
  if (block.caseId === '') throw new FieldsimError('invalid-argument', 'A case block needs a case_id');
  const attrs: Record<string, string> = { case_id: block.caseId };
  if (block.dateModified !== undefined) attrs.date_modified = block.dateModified;
  if (block.userId !== undefined) attrs.user_id = block.userId;
  const c = parent.ele(ns, 'case', attrs);
  for (const a of block.actions) {
    switch (a.kind) {
      case 'create': {
        // Element order as HQ writes and documents it: case_type, case_name, owner_id.
        const e = c.ele(ns, 'create');
        if (a.caseType !== undefined) put(e.ele(ns, 'case_type'), a.caseType);
        if (a.caseName !== undefined) put(e.ele(ns, 'case_name'), a.caseName);
        if (a.ownerId !== undefined) put(e.ele(ns, 'owner_id'), a.ownerId);
        break;
      }
      case 'update': {
        if (a.fields.length === 0) break;
        const e = c.ele(ns, 'update');
        for (const [k, v] of a.fields) put(e.ele(ns, checkName(k, 'case property')), v);
        break;
      }
      case 'close':
        c.ele(ns, 'close');
        break;
      case 'index': {
        const e = c.ele(ns, 'index');
        for (const x of a.entries) {
          const at: Record<string, string> = { case_type: x.caseType };
          // `child` is the default and HQ omits it (PROTOCOL.md 3.9, 4.2).
          if (x.relationship !== undefined && x.relationship !== 'child') at.relationship = x.relationship;
          put(e.ele(ns, checkName(x.identifier, 'index'), at), x.target);
        }
        break;
      }
      case 'attachment': {
        const e = c.ele(ns, 'attachment');
        for (const x of a.entries) {
          const at: Record<string, string> = {};
          if (x.src !== undefined) at.src = x.src;
          if (x.from !== undefined) at.from = x.from;
          if (x.fileName !== undefined) at.name = x.fileName;
          e.ele(ns, checkName(x.name, 'attachment'), at);
        }
        break;
      }
    }
  }
}

function writeNodes(
  parent: XMLBuilder,
  ns: string,
  nodes: FormNode[],
  fill: (b: CaseBlock) => CaseBlock,
  blocks: CaseBlock[],
): void {
  for (const n of nodes) {
    if ('caseBlock' in n) {
      const b = fill(n.caseBlock);
      blocks.push(b);
      writeCase(parent, b);
      continue;
    }
    const name = checkName(n.name, 'element');
    if (name === 'meta') throw new FieldsimError('invalid-argument', '`meta` is written by the composer');
    const el = parent.ele(ns, name, n.attributes ?? {});
    if ('children' in n) writeNodes(el, ns, n.children, fill, blocks);
    else put(el, n.value);
  }
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
  const doc = create({ ...XML_DECL, invalidCharReplacement: '' });
  const rootAttrs: Record<string, string> = {};
  if (odk) {
    if (spec.formId !== undefined) rootAttrs.id = spec.formId;
    if (spec.version !== undefined) rootAttrs.version = spec.version;
  } else {
    if (spec.name !== undefined) rootAttrs.name = spec.name;
    if (spec.version !== undefined) rootAttrs.version = spec.version;
    if (spec.uiVersion !== undefined) rootAttrs.uiVersion = spec.uiVersion;
  }
  const ns = spec.xmlns;
  const root = doc.ele(ns, checkName(spec.rootName ?? 'data', 'root'), rootAttrs);
  const blocks: CaseBlock[] = [];
  writeNodes(root, ns, spec.children, (b) => withMetaDefaults(b, meta.timeEnd, meta.userId), blocks);

  const m = root.ele(NS.orx, 'orx:meta').att('http://www.w3.org/2000/xmlns/', 'xmlns:cc', NS.cc);
  put(m.ele(NS.orx, 'orx:deviceID'), meta.deviceId);
  put(m.ele(NS.orx, 'orx:timeStart'), meta.timeStart);
  put(m.ele(NS.orx, 'orx:timeEnd'), meta.timeEnd);
  put(m.ele(NS.orx, 'orx:username'), meta.username);
  put(m.ele(NS.orx, 'orx:userID'), meta.userId);
  put(m.ele(NS.orx, 'orx:instanceID'), instanceId);
  put(m.ele(NS.cc, 'cc:appVersion'), meta.appVersion ?? '');
  put(m.ele(NS.orx, 'orx:drift'), meta.drift ?? '');
  if (meta.location !== undefined) put(m.ele(NS.cc, 'cc:location'), meta.location);

  const xml = doc.end({ prettyPrint: false });
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
