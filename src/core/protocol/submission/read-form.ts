import { SaxesParser, type SaxesTagNS } from 'saxes';
import { XmlError } from '../../errors/xml-error.ts';
import { type ActionField, attachmentEntries, indexEntries } from '../casexml/case-action-entries.ts';
import type { CaseAction, CaseBlock } from '../casexml/case-types.ts';
import { NS } from '../namespaces.ts';
import { DEFAULT_RESTORE_LIMITS, type RestoreLimits } from '../restore/restore-parser.ts';

/**
 * Reads a submitted form instance the way HQ's receiver sees it (PROTOCOL.md 6, 7.4, 4.3):
 * the root's xmlns, the meta block (a direct child of the root named `meta`/`Meta` in any
 * namespace, legacy capitalised fields normalised like HQ's `scrub_meta`), and every
 * `<case>` block at any depth (nested groups and repeats), skipping device reports
 * (xmlns `http://code.javarosa.org/devicereport`). Used by tests to check that composed
 * forms read back as HQ would read them, and by the outbox to recover a stored form's
 * case blocks.
 */

export interface ReadCaseBlock extends CaseBlock {
  /** `v2` when the block is in the CaseXML 2.0 namespace; HQ treats others as legacy v1. */
  version: 'v2' | 'v1';
  /** Element path from the root, e.g. `data/household/case`. */
  path: string;
}

export interface ReadForm {
  rootName: string;
  xmlns: string;
  attributes: Record<string, string>;
  /** Meta fields by HQ's names (`deviceID`, `timeStart`, `instanceID`, `appVersion`...). */
  meta: Record<string, string> | undefined;
  caseBlocks: ReadCaseBlock[];
}

interface El {
  local: string;
  uri: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

/** HQ's legacy meta names (`scrub_meta`, hq:corehq/form_processor/utils/xform.py). */
const LEGACY_META: Record<string, string> = {
  DeviceID: 'deviceID',
  TimeStart: 'timeStart',
  TimeEnd: 'timeEnd',
  uid: 'instanceID',
  chw_id: 'userID',
  CommCareVersion: 'appVersion',
};

/** Deepest nesting of a form instance (as for restores; real forms nest a few groups). */
const MAX_DEPTH = 128;

/**
 * The form is held whole as a tree, so its size is bounded like a restore's top-level
 * element: a 100k-deep instance in an outbox import file ran for 207 s (saxes resolves
 * namespaces by walking the open tags, so cost grows with depth squared) and then
 * overflowed the stack. Parsing stops at the first limit, with a typed error.
 */
function parseTree(xml: string, limits: RestoreLimits = DEFAULT_RESTORE_LIMITS): El {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: El[] = [];
  let root: El | undefined;
  let elements = 0;
  const tooLarge = (what: string): never => {
    throw new XmlError('xml-too-large', `The form instance ${what}`, {
      line: parser.line,
      column: parser.column,
      path: stack.map((e) => e.local).join('/'),
    });
  };
  parser.on('opentag', (t: SaxesTagNS) => {
    if (stack.length >= MAX_DEPTH) tooLarge(`nests elements deeper than ${MAX_DEPTH} levels`);
    if (++elements > limits.maxElements) tooLarge(`has more than ${limits.maxElements} elements`);
    const parentEl = stack[stack.length - 1];
    if (parentEl && parentEl.children.length >= limits.maxChildren)
      tooLarge(`has an element <${parentEl.local}> with more than ${limits.maxChildren} children`);
    if (Object.keys(t.attributes).length > limits.maxAttributes)
      tooLarge(`has an element <${t.local}> with more than ${limits.maxAttributes} attributes`);
    const attrs: Record<string, string> = {};
    for (const a of Object.values(t.attributes))
      if (a.prefix !== 'xmlns' && a.name !== 'xmlns') attrs[a.local] = a.value;
    const el: El = { local: t.local, uri: t.uri, attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (text) => {
    const top = stack[stack.length - 1];
    if (top) top.text += text;
  });
  parser.on('cdata', (text) => {
    const top = stack[stack.length - 1];
    if (top) top.text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  try {
    parser.write(xml).close();
  } catch (cause) {
    if (cause instanceof XmlError) throw cause;
    throw new XmlError('xml-malformed', `The form instance is not well-formed XML: ${String(cause)}`, {
      line: parser.line,
      column: parser.column,
      cause,
    });
  }
  if (!root) throw new XmlError('xml-malformed', 'The form instance has no root element');
  return root;
}

function readCase(el: El, path: string): ReadCaseBlock {
  const actions: CaseAction[] = [];
  const v2 = el.uri === NS.caseV2;
  for (const c of el.children) {
    switch (c.local) {
      case 'create': {
        const a: Extract<CaseAction, { kind: 'create' }> = { kind: 'create' };
        for (const f of c.children) {
          if (f.local === 'case_type') a.caseType = f.text.trim();
          else if (f.local === 'case_name') a.caseName = f.text.trim();
          else if (f.local === 'owner_id') a.ownerId = f.text.trim();
        }
        actions.push(a);
        break;
      }
      case 'update':
        actions.push({ kind: 'update', fields: c.children.map((f) => [f.local, f.text.trim()]) });
        break;
      case 'close':
        actions.push({ kind: 'close' });
        break;
      case 'index':
        actions.push({ kind: 'index', entries: indexEntries(c.children.map(asField)) });
        break;
      case 'attachment':
        actions.push({ kind: 'attachment', entries: attachmentEntries(c.children.map(asField)) });
        break;
      default:
        break;
    }
  }
  const block: ReadCaseBlock = { caseId: el.attrs.case_id ?? '', actions, version: v2 ? 'v2' : 'v1', path };
  if (el.attrs.date_modified !== undefined) block.dateModified = el.attrs.date_modified;
  if (el.attrs.user_id !== undefined) block.userId = el.attrs.user_id;
  return block;
}

function collectCases(el: El, path: string, out: ReadCaseBlock[]): void {
  for (const c of el.children) {
    const p = `${path}/${c.local}`;
    // A device report nested in a form is its own sub-document; HQ skips its case blocks.
    if (c.uri === NS.deviceReport) continue;
    if (c.local === 'case' && (c.uri === NS.caseV2 || c.attrs.case_id !== undefined)) {
      out.push(readCase(c, p));
      continue;
    }
    collectCases(c, p, out);
  }
}

export function readForm(xml: string): ReadForm {
  const root = parseTree(xml);
  let meta: Record<string, string> | undefined;
  for (const c of root.children) {
    if (c.local !== 'meta' && c.local !== 'Meta') continue;
    meta = {};
    for (const f of c.children) meta[LEGACY_META[f.local] ?? f.local] = f.text.trim();
    break;
  }
  const caseBlocks: ReadCaseBlock[] = [];
  if (root.uri !== NS.deviceReport) collectCases(root, root.local, caseBlocks);
  return { rootName: root.local, xmlns: root.uri, attributes: root.attrs, meta, caseBlocks };
}

function asField(e: El): ActionField {
  return { name: e.local, attrs: e.attrs, text: e.text };
}
