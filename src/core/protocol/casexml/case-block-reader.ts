import { XmlError, type XmlPosition } from '../../errors/xml-error.ts';
import type { XmlNode } from '../restore/restore-types.ts';
import { type ActionField, attachmentEntries, indexEntries } from './case-action-entries.ts';
import type { CaseAction, CaseBlock } from './case-types.ts';

/**
 * Turns a parsed `<case>` element (CaseXML 2.0, PROTOCOL.md 4.1-4.2) into a `CaseBlock`,
 * keeping actions in document order because the phone applies them that way
 * (core: org/commcare/xml/CaseXmlParser.java walks the children as it meets them).
 *
 * Only the structure is checked here; the case rules (unknown case, missing name, lengths,
 * self index, empty relationship) live in apply-case-block.ts so that blocks built in code
 * (form saves) get the same checks as blocks read from XML.
 */

const CREATE_CHILDREN = new Set(['case_type', 'case_name', 'owner_id']);

export function readCaseBlock(node: XmlNode, where: XmlPosition = {}): CaseBlock {
  const caseId = (node.attributes.case_id ?? '').trim();
  // core: CaseXmlParser.java rejects a missing or empty case_id before looking at actions.
  if (caseId === '')
    throw new XmlError('case-invalid', 'A <case> block has a missing or empty case_id attribute', where);
  // core: CaseXmlParser.java refuses a block without date_modified ("<case> block with no
  // date_modified") before applying any action.
  const dm = node.attributes.date_modified;
  if (dm === undefined || dm.trim() === '')
    throw new XmlError('case-invalid', `Case ${caseId}: the <case> block has no date_modified`, {
      ...where,
      caseId,
    });
  const actions: CaseAction[] = [];
  for (const child of node.children) {
    // core: CaseXmlParser.java lower-cases the action name (`<Update>` is an update).
    switch (child.name.toLowerCase()) {
      case 'create': {
        const a: { kind: 'create'; caseType?: string; caseName?: string; ownerId?: string } = {
          kind: 'create',
        };
        for (const f of child.children) {
          // core: CaseXmlParser.java accepts only these three children inside <create>.
          if (!CREATE_CHILDREN.has(f.name))
            throw new XmlError('case-invalid', `Case ${caseId}: unexpected <${f.name}> inside <create>`, {
              ...where,
              caseId,
            });
          const v = f.text.trim();
          if (f.name === 'case_type') a.caseType = v;
          else if (f.name === 'case_name') a.caseName = v;
          else a.ownerId = v;
        }
        actions.push(a);
        break;
      }
      case 'update': {
        // Values are trimmed on the phone; an empty element is an empty string (PROTOCOL.md 4.2).
        const fields: [string, string][] = child.children.map((f) => [f.name, f.text.trim()]);
        actions.push({ kind: 'update', fields });
        break;
      }
      case 'close':
        actions.push({ kind: 'close' });
        break;
      case 'index':
        actions.push({ kind: 'index', entries: indexEntries(child.children.map(asField)) });
        break;
      case 'attachment':
        actions.push({ kind: 'attachment', entries: attachmentEntries(child.children.map(asField)) });
        break;
      default:
        // The phone parser ignores children it has no action for.
        break;
    }
  }
  const block: CaseBlock = { caseId, actions, dateModified: dm };
  const uid = node.attributes.user_id;
  if (uid !== undefined) block.userId = uid;
  return block;
}

function asField(n: XmlNode): ActionField {
  return { name: n.name, attrs: n.attributes, text: n.text };
}
