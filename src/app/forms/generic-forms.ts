import type { CaseBlock } from '../../core/protocol/casexml/case-types.ts';
import type { FormDraft, FormNode } from '../../core/protocol/submission/form-types.ts';

/**
 * The built-in forms every worker has, whatever the app: register a household, update one
 * property of a case, close a case. Each builds a CaseXML 2.0 block (PROTOCOL.md section 4)
 * for the core to apply locally and queue.
 */

export const FORM_XMLNS = {
  registerHousehold: 'http://fieldsim.dev/forms/register-household',
  updateCase: 'http://fieldsim.dev/forms/update-case',
  closeCase: 'http://fieldsim.dev/forms/close-case',
} as const;

function answers(values: Record<string, string>): FormNode[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/** Property names must be XML element names (the case block writer rejects others). */
export const PROPERTY_NAME_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;
/** Names CaseXML reserves for `<create>` and the case itself; an `<update>` must not use them. */
const RESERVED = new Set(['case_id', 'case_type', 'case_name', 'owner_id', 'date_modified', 'user_id']);

export function propertyNameError(name: string): string | null {
  if (name.trim() === '') return 'Enter a property name.';
  if (!PROPERTY_NAME_RE.test(name)) {
    return 'Use letters, digits, "_", "-" or "." and start with a letter or "_".';
  }
  if (RESERVED.has(name)) return `"${name}" is reserved; choose another name.`;
  return null;
}

export interface RegisterHouseholdInput {
  caseId: string;
  name: string;
  village: string;
  members: string;
  ownerId: string;
  userId: string;
  now: Date;
}

export function registerHousehold(i: RegisterHouseholdInput): FormDraft {
  const fields: [string, string][] = [];
  if (i.village.trim() !== '') fields.push(['village', i.village.trim()]);
  if (i.members.trim() !== '') fields.push(['household_size', i.members.trim()]);
  const block: CaseBlock = {
    caseId: i.caseId,
    dateModified: i.now.toISOString(),
    userId: i.userId,
    actions: [
      { kind: 'create', caseType: 'household', caseName: i.name.trim(), ownerId: i.ownerId },
      ...(fields.length > 0 ? [{ kind: 'update' as const, fields }] : []),
    ],
  };
  return {
    xmlns: FORM_XMLNS.registerHousehold,
    name: 'Register household',
    children: [
      ...answers({
        household_name: i.name.trim(),
        village: i.village.trim(),
        household_size: i.members.trim(),
      }),
      { caseBlock: block },
    ],
  };
}

export interface UpdateCaseInput {
  caseId: string;
  caseName: string;
  property: string;
  value: string;
  userId: string;
  now: Date;
}

export function updateCase(i: UpdateCaseInput): FormDraft {
  return {
    xmlns: FORM_XMLNS.updateCase,
    name: `Update ${i.property} of ${i.caseName}`,
    children: [
      ...answers({ case_id: i.caseId, property: i.property, value: i.value }),
      {
        caseBlock: {
          caseId: i.caseId,
          dateModified: i.now.toISOString(),
          userId: i.userId,
          actions: [{ kind: 'update', fields: [[i.property, i.value]] }],
        },
      },
    ],
  };
}

export interface CloseCaseInput {
  caseId: string;
  caseName: string;
  reason: string;
  userId: string;
  now: Date;
}

export function closeCase(i: CloseCaseInput): FormDraft {
  const reason = i.reason.trim();
  return {
    xmlns: FORM_XMLNS.closeCase,
    name: `Close ${i.caseName}`,
    children: [
      ...answers({ case_id: i.caseId, close_reason: reason }),
      {
        caseBlock: {
          caseId: i.caseId,
          dateModified: i.now.toISOString(),
          userId: i.userId,
          // Update before close: document order is the order the phone applies.
          actions: [
            ...(reason
              ? [{ kind: 'update' as const, fields: [['close_reason', reason]] as [string, string][] }]
              : []),
            { kind: 'close' as const },
          ],
        },
      },
    ],
  };
}
