import { XmlError, type XmlPosition } from '../../errors/xml-error.ts';
import { setOwnProperty } from '../../lib/own-property.ts';
import type { CaseAttachment, CaseBlock, CaseIndex, CaseRecord } from './case-types.ts';

/**
 * The phone's CaseXML 2.0 rules (PROTOCOL.md 4.2-4.3; core: org/commcare/xml/CaseXmlParser.java,
 * CaseXmlParserUtil.java), as a pure function: the case as stored (or undefined) and one
 * block in, the case after the block out. Nothing is mutated, so a caller can apply a
 * whole payload to copies and drop them all when one block fails.
 */

/** core: CaseXmlParser.java checks these fields against this length. */
export const MAX_FIELD_LENGTH = 255;

function checkLength(caseId: string, field: string, value: string, where: XmlPosition): string {
  if (value.length > MAX_FIELD_LENGTH)
    throw new XmlError(
      'case-invalid',
      `Case ${caseId}: ${field} is ${value.length} characters long; the limit is ${MAX_FIELD_LENGTH}`,
      { ...where, caseId },
    );
  return value;
}

/** `date_opened` is a date; a new case takes the date part of the block's date_modified. */
function datePart(dateTime: string | undefined): string {
  if (dateTime === undefined) return '';
  const m = /^\d{4}-\d{2}-\d{2}/.exec(dateTime);
  return m ? m[0] : '';
}

function copy(c: CaseRecord): CaseRecord {
  return {
    ...c,
    properties: { ...c.properties },
    indices: c.indices.slice(),
    attachments: c.attachments.slice(),
  };
}

export function applyCaseBlock(
  existing: CaseRecord | undefined,
  block: CaseBlock,
  where: XmlPosition = {},
): CaseRecord | undefined {
  const caseId = block.caseId.trim();
  if (caseId === '') throw new XmlError('case-invalid', 'A case block has a missing or empty case_id', where);
  const at = { ...where, caseId };
  let c = existing === undefined ? undefined : copy(existing);
  const need = (what: string): CaseRecord => {
    // core: CaseXmlParser.java "Unable to update or close case X, it wasn't found".
    if (c === undefined)
      throw new XmlError('case-not-found', `Unable to ${what} case ${caseId}: it does not exist`, at);
    return c;
  };

  for (const a of block.actions) {
    switch (a.kind) {
      case 'create': {
        // case_type and case_name must be present as elements; empty values are accepted
        // (commcare-core checks for null only, PROTOCOL.md 4.2).
        if (a.caseType === undefined)
          throw new XmlError('case-invalid', `Case ${caseId}: <create> has no <case_type>`, at);
        if (a.caseName === undefined)
          throw new XmlError('case-invalid', `Case ${caseId}: <create> has no <case_name>`, at);
        // The owner falls back to the block's user_id attribute.
        const owner = a.ownerId !== undefined && a.ownerId !== '' ? a.ownerId : (block.userId ?? '');
        if (owner === '')
          throw new XmlError(
            'case-invalid',
            `Case ${caseId}: <create> has no owner_id and the block no user_id`,
            at,
          );
        checkLength(caseId, 'case_type', a.caseType, at);
        checkLength(caseId, 'case_name', a.caseName, at);
        checkLength(caseId, 'owner_id', owner, at);
        if (c === undefined) {
          c = {
            caseId,
            caseType: a.caseType,
            caseName: a.caseName,
            ownerId: owner,
            closed: false,
            dateOpened: datePart(block.dateModified),
            lastModified: block.dateModified ?? '',
            userId: block.userId ?? '',
            externalId: '',
            properties: {},
            indices: [],
            attachments: [],
          };
        } else {
          // acceptCreateOverwrites: a second create overwrites name, type and owner and
          // keeps everything else (core test testDoubleCreateCaseWithUpdate).
          c.caseType = a.caseType;
          c.caseName = a.caseName;
          c.ownerId = owner;
        }
        break;
      }
      case 'update': {
        const r = need('update');
        for (const [name, value] of a.fields) {
          switch (name) {
            case 'case_type':
              r.caseType = checkLength(caseId, name, value, at);
              break;
            case 'case_name':
              r.caseName = checkLength(caseId, name, value, at);
              break;
            case 'owner_id':
              r.ownerId = checkLength(caseId, name, value, at);
              break;
            case 'external_id':
              r.externalId = checkLength(caseId, name, value, at);
              break;
            case 'date_opened':
              r.dateOpened = value;
              break;
            default:
              // Everything else, including `category` and `state`, is a property; an empty
              // element sets the empty string rather than deleting it.
              setOwnProperty(r.properties, name, value);
          }
        }
        break;
      }
      case 'close':
        need('close').closed = true;
        break;
      case 'index': {
        const r = need('index');
        for (const e of a.entries) {
          // Empty text removes the index with that identifier (phone removeIndex).
          if (e.target === '') {
            r.indices = r.indices.filter((i) => i.identifier !== e.identifier);
            continue;
          }
          let relationship: CaseIndex['relationship'];
          if (e.relationship === undefined || e.relationship === 'child') relationship = 'child';
          else if (e.relationship === 'extension') relationship = 'extension';
          else if (e.relationship === '')
            throw new XmlError(
              'case-invalid',
              `Case ${caseId}: index ${e.identifier} has an empty relationship`,
              at,
            );
          else
            throw new XmlError(
              'case-invalid',
              `Case ${caseId}: index ${e.identifier} has an unknown relationship ${JSON.stringify(e.relationship)}`,
              at,
            );
          // core: case.error.self.index
          if (e.target === caseId)
            throw new XmlError(
              'case-invalid',
              `Case ${caseId}: index ${e.identifier} points at the case itself`,
              at,
            );
          const idx: CaseIndex = {
            identifier: e.identifier,
            caseType: e.caseType,
            caseId: e.target,
            relationship,
          };
          const pos = r.indices.findIndex((i) => i.identifier === e.identifier);
          if (pos >= 0) r.indices[pos] = idx;
          else r.indices.push(idx);
        }
        break;
      }
      case 'attachment': {
        const r = need('attach to');
        for (const e of a.entries) {
          const rest = r.attachments.filter((x) => x.name !== e.name);
          // No src and no from removes the attachment (PROTOCOL.md 4.2).
          if (e.src === undefined && e.from === undefined) {
            r.attachments = rest;
            continue;
          }
          const att: CaseAttachment = { name: e.name };
          if (e.src !== undefined) att.src = e.src;
          if (e.from !== undefined) att.from = e.from;
          if (e.fileName !== undefined) att.fileName = e.fileName;
          rest.push(att);
          r.attachments = rest;
        }
        break;
      }
    }
  }
  if (c !== undefined && block.actions.length > 0) {
    if (block.dateModified !== undefined) c.lastModified = block.dateModified;
    if (block.userId !== undefined) c.userId = block.userId;
  }
  return c;
}
