import { FieldsimError } from '../../errors/fieldsim-error.ts';
import type { CaseAction, CaseBlock } from '../casexml/case-types.ts';
import type { FormDraft, FormNode } from './form-types.ts';

/**
 * The three generic forms the PWA and the CLI offer without an app definition: register a
 * case, update case properties, close a case. Each answers with a question per value and
 * one CaseXML 2.0 block, as an HQ-built case form would; `date_modified`, `user_id` and
 * the default `owner_id` come from meta when the session composes the form.
 */

export const GENERIC_XMLNS = {
  register: 'http://fieldsim.org/forms/generic/register-case',
  update: 'http://fieldsim.org/forms/generic/update-case',
  close: 'http://fieldsim.org/forms/generic/close-case',
} as const;

export interface RegisterCaseInput {
  /** The new case's id: a fresh v4 UUID from the caller's id source. */
  caseId: string;
  caseType: string;
  caseName: string;
  /** Defaults to the user (meta/userID). */
  ownerId?: string;
  properties?: Record<string, string>;
  /** Optional index to a parent (child relationship) or host (extension). */
  parent?: { caseId: string; caseType: string; identifier?: string; relationship?: 'child' | 'extension' };
  externalId?: string;
}

export interface UpdateCaseInput {
  caseId: string;
  properties: Record<string, string>;
  caseName?: string;
  ownerId?: string;
}

export interface CloseCaseInput {
  caseId: string;
  /** Properties to set in the same block before the close (e.g. a close reason). */
  properties?: Record<string, string>;
}

function answers(props: Record<string, string>): FormNode[] {
  return Object.entries(props).map(([name, value]) => ({ name, value }));
}

function requireId(id: string, what: string): void {
  if (id.trim() === '') throw new FieldsimError('invalid-argument', `${what} is required`);
}

export function registerCaseForm(input: RegisterCaseInput): FormDraft {
  requireId(input.caseId, 'caseId');
  requireId(input.caseType, 'caseType');
  const props = input.properties ?? {};
  const create: CaseAction = { kind: 'create', caseType: input.caseType, caseName: input.caseName };
  if (input.ownerId !== undefined) create.ownerId = input.ownerId;
  const actions: CaseAction[] = [create];
  const fields: [string, string][] = Object.entries(props);
  if (input.externalId !== undefined) fields.unshift(['external_id', input.externalId]);
  if (fields.length > 0) actions.push({ kind: 'update', fields });
  if (input.parent) {
    requireId(input.parent.caseId, 'parent.caseId');
    const rel = input.parent.relationship ?? 'child';
    actions.push({
      kind: 'index',
      entries: [
        {
          identifier: input.parent.identifier ?? (rel === 'extension' ? 'host' : 'parent'),
          caseType: input.parent.caseType,
          target: input.parent.caseId,
          relationship: rel,
        },
      ],
    });
  }
  const block: CaseBlock = { caseId: input.caseId, actions };
  return {
    xmlns: GENERIC_XMLNS.register,
    name: `Register ${input.caseType}`,
    version: '1',
    uiVersion: '1',
    children: [{ name: 'case_name', value: input.caseName }, ...answers(props), { caseBlock: block }],
  };
}

export function updateCaseForm(input: UpdateCaseInput): FormDraft {
  requireId(input.caseId, 'caseId');
  const fields: [string, string][] = [];
  if (input.caseName !== undefined) fields.push(['case_name', input.caseName]);
  if (input.ownerId !== undefined) fields.push(['owner_id', input.ownerId]);
  fields.push(...Object.entries(input.properties));
  if (fields.length === 0)
    throw new FieldsimError('invalid-argument', 'An update form needs at least one value');
  return {
    xmlns: GENERIC_XMLNS.update,
    name: 'Update case',
    version: '1',
    uiVersion: '1',
    children: [
      { name: 'case_id', value: input.caseId },
      ...answers(Object.fromEntries(fields)),
      { caseBlock: { caseId: input.caseId, actions: [{ kind: 'update', fields }] } },
    ],
  };
}

export function closeCaseForm(input: CloseCaseInput): FormDraft {
  requireId(input.caseId, 'caseId');
  const props = input.properties ?? {};
  const actions: CaseAction[] = [];
  const fields = Object.entries(props);
  if (fields.length > 0) actions.push({ kind: 'update', fields });
  actions.push({ kind: 'close' });
  return {
    xmlns: GENERIC_XMLNS.close,
    name: 'Close case',
    version: '1',
    uiVersion: '1',
    children: [
      { name: 'case_id', value: input.caseId },
      ...answers(props),
      { caseBlock: { caseId: input.caseId, actions } },
    ],
  };
}
