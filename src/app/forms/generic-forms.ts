import type { FormDraft } from '../../core/protocol/submission/form-types.ts';
import {
  closeCaseForm,
  registerCaseForm,
  updateCaseForm,
} from '../../core/protocol/submission/generic-forms.ts';

/**
 * The built-in forms every worker has, whatever the app: register a household, update one
 * property of a case, close a case. They wrap the core's generic case forms (CaseXML 2.0,
 * PROTOCOL.md section 4) and give each a name the Outbox can show.
 */

/** Property names must be XML element names (the case block writer rejects others). */
export const PROPERTY_NAME_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;
/** Names CaseXML handles itself; an update form sets them through dedicated fields. */
const RESERVED = new Set([
  'case_id',
  'case_type',
  'case_name',
  'owner_id',
  'date_modified',
  'user_id',
  'external_id',
]);

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
  householdSize: string;
}

export function registerHousehold(i: RegisterHouseholdInput): FormDraft {
  const properties: Record<string, string> = {};
  if (i.village.trim() !== '') properties.village = i.village.trim();
  if (i.householdSize.trim() !== '') properties.household_size = i.householdSize.trim();
  const draft = registerCaseForm({
    caseId: i.caseId,
    caseType: 'household',
    caseName: i.name.trim(),
    properties,
  });
  return { ...draft, name: `Register household ${i.name.trim()}` };
}

export interface UpdateCaseInput {
  caseId: string;
  caseName: string;
  property: string;
  value: string;
}

export function updateCase(i: UpdateCaseInput): FormDraft {
  const draft = updateCaseForm({ caseId: i.caseId, properties: { [i.property]: i.value } });
  return { ...draft, name: `Update ${i.property} of ${i.caseName}` };
}

export interface CloseCaseInput {
  caseId: string;
  caseName: string;
  reason: string;
}

export function closeCase(i: CloseCaseInput): FormDraft {
  const reason = i.reason.trim();
  const draft = closeCaseForm({
    caseId: i.caseId,
    ...(reason ? { properties: { close_reason: reason } } : {}),
  });
  return { ...draft, name: `Close ${i.caseName}` };
}
