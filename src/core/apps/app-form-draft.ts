import { FieldsimError } from '../errors/fieldsim-error.ts';
import type { CaseRecord } from '../protocol/casexml/case-types.ts';
import type { FormDraft, FormNode } from '../protocol/submission/form-types.ts';
import { closeCaseForm, registerCaseForm, updateCaseForm } from '../protocol/submission/generic-forms.ts';
import { type AppForm, type AppModule, type AppQuestion, localName } from './app-structure.ts';

/**
 * Turns answers to an application form into a form instance with its case block: the
 * answers go in question order under their tags, and the form's case action (register,
 * register a child, update, close) writes the case block the core's generic forms build.
 */
export type Answers = Record<string, string | string[]>;

export function answerText(v: string | string[] | undefined): string {
  // A multiple-choice answer is the selected values separated by spaces, as in XForms.
  return Array.isArray(v) ? v.join(' ') : (v ?? '');
}

const NUMBER_TYPES = new Set(['Int', 'Long', 'Double', 'Decimal']);

/** A sentence for the person filling the form, or `null` when the answer is acceptable. */
export function validateAnswer(q: AppQuestion, v: string | string[] | undefined): string | null {
  const text = answerText(v).trim();
  if (text === '') return q.required ? `${q.label} is required.` : null;
  if ((q.type === 'Int' || q.type === 'Long') && !/^-?\d+$/.test(text))
    return `${q.label} must be a whole number.`;
  if (NUMBER_TYPES.has(q.type) && !Number.isFinite(Number(text))) return `${q.label} must be a number.`;
  if (q.type === 'Date' && !/^\d{4}-\d{2}-\d{2}$/.test(text))
    return `${q.label} must be a date (YYYY-MM-DD).`;
  if (q.type === 'Select' && q.options.length > 0 && !q.options.some((o) => o.value === text))
    return `Choose one of the options for ${q.label}.`;
  return null;
}

/** Problems by question tag; empty when the form may be saved. */
export function validateForm(form: AppForm, answers: Answers): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const q of form.questions) {
    const e = validateAnswer(q, answers[q.tag]);
    if (e) errors[q.tag] = e;
  }
  return errors;
}

/** The question that names a new case: the first required text question, else the first text one. */
export function nameQuestion(form: AppForm): AppQuestion | undefined {
  const texts = form.questions.filter((q) => q.type === 'Text');
  return texts.find((q) => q.required) ?? texts[0];
}

/** What an outbox shows: the form's name and the case it is about. */
function formTitle(form: AppForm, target: CaseRecord | undefined, newName: string, lang: string): string {
  const base = localName(form.name, lang);
  if (target) return `${base} (${target.caseName})`;
  return newName ? `${base} ${newName}` : base;
}

export interface AppFormDraftInput {
  module: AppModule;
  form: AppForm;
  answers: Answers;
  /** The case being updated or closed. */
  target?: CaseRecord;
  /** The parent of a child case. */
  parent?: CaseRecord;
  /** A fresh id for a registered case. */
  newCaseId: string;
  /** Language of the form title kept with the draft (default `en`). */
  lang?: string;
}

function caseBlockOf(draft: FormDraft): FormNode[] {
  return draft.children.filter((n) => 'caseBlock' in n);
}

/**
 * The form instance for these answers. Throws `FieldsimError('invalid-argument')` when
 * the form's action needs a case (`update`, `close`) or a parent (`register-child`) that
 * was not given.
 */
export function buildAppFormDraft(i: AppFormDraftInput): FormDraft {
  const { form, module, answers } = i;
  const answerNodes: FormNode[] = form.questions.map((q) => ({
    name: q.tag,
    value: answerText(answers[q.tag]),
  }));
  const props: Record<string, string> = {};
  // Only a registration names a case from an answer; other forms store every answer.
  const registers = form.action === 'register' || form.action === 'register-child';
  const naming = registers ? nameQuestion(form) : undefined;
  for (const q of form.questions) {
    const v = answerText(answers[q.tag]).trim();
    if (v !== '' && q.tag !== naming?.tag) props[q.tag] = v;
  }
  let caseNodes: FormNode[] = [];
  switch (form.action) {
    case 'register':
    case 'register-child': {
      const caseName = naming ? answerText(answers[naming.tag]).trim() : '';
      if (form.action === 'register-child' && !i.parent)
        throw new FieldsimError('invalid-argument', 'Choose the parent case first.');
      caseNodes = caseBlockOf(
        registerCaseForm({
          caseId: i.newCaseId,
          caseType: module.caseType,
          caseName,
          properties: props,
          ...(form.action === 'register-child' && i.parent
            ? { parent: { caseId: i.parent.caseId, caseType: i.parent.caseType } }
            : {}),
        }),
      );
      break;
    }
    case 'update':
      if (!i.target) throw new FieldsimError('invalid-argument', 'Choose the case first.');
      if (Object.keys(props).length > 0)
        caseNodes = caseBlockOf(updateCaseForm({ caseId: i.target.caseId, properties: props }));
      break;
    case 'close':
      if (!i.target) throw new FieldsimError('invalid-argument', 'Choose the case first.');
      caseNodes = caseBlockOf(closeCaseForm({ caseId: i.target.caseId, properties: props }));
      break;
    case 'none':
      break;
  }
  return {
    xmlns: form.xmlns,
    name: formTitle(form, i.target, naming ? answerText(answers[naming.tag]).trim() : '', i.lang ?? 'en'),
    version: '1',
    uiVersion: '1',
    children: [...answerNodes, ...caseNodes],
  };
}

/**
 * An unfinished form as a draft: the answers so far, plus the chosen case and parent as
 * private nodes (the final instance is rebuilt from scratch on completion, so these never
 * reach the server).
 */
const TARGET_NODE = 'fieldsim_draft_case';
const PARENT_NODE = 'fieldsim_draft_parent';

export function buildIncompleteDraft(i: {
  form: AppForm;
  answers: Answers;
  target?: CaseRecord | null;
  parent?: CaseRecord | null;
  lang?: string;
}): FormDraft {
  const children: FormNode[] = i.form.questions.map((q) => ({
    name: q.tag,
    value: answerText(i.answers[q.tag]),
  }));
  if (i.target) children.push({ name: TARGET_NODE, value: i.target.caseId });
  if (i.parent) children.push({ name: PARENT_NODE, value: i.parent.caseId });
  return {
    xmlns: i.form.xmlns,
    name: localName(i.form.name, i.lang ?? 'en'),
    version: '1',
    uiVersion: '1',
    children,
  };
}

/** The answers and chosen cases of a draft written by `buildIncompleteDraft`. */
export function readIncompleteDraft(
  form: AppForm,
  draft: FormDraft,
): { answers: Answers; targetId?: string; parentId?: string } {
  const values = new Map<string, string>();
  for (const n of draft.children) if ('value' in n) values.set(n.name, n.value);
  const answers: Answers = {};
  for (const q of form.questions) {
    const v = values.get(q.tag);
    if (v === undefined || v === '') continue;
    answers[q.tag] = q.type === 'MSelect' ? v.split(' ').filter(Boolean) : v;
  }
  const targetId = values.get(TARGET_NODE);
  const parentId = values.get(PARENT_NODE);
  return { answers, ...(targetId ? { targetId } : {}), ...(parentId ? { parentId } : {}) };
}
