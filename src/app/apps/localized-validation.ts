import type { AppForm, AppQuestion } from '../../core/apps/app-structure.ts';
import { messagesFor } from '../messages.ts';
import { type Answers, answerText, validateAnswer } from './app-form-draft.ts';
import { labelIn } from './app-language.ts';

/**
 * Validation in the form's language. Whether an answer is acceptable is the core's call
 * (`validateAnswer`, shared with the CLI and the QA runner); this only picks the sentence,
 * from fieldsim's catalog, with the question's label in that language.
 */
export function localizedProblem(
  q: AppQuestion,
  v: string | string[] | undefined,
  lang: string,
): string | null {
  if (validateAnswer(q, v) === null) return null;
  const m = messagesFor(lang);
  const label = labelIn(q, lang);
  const text = answerText(v).trim();
  if (text === '') return m.required(label);
  if ((q.type === 'Int' || q.type === 'Long') && !/^-?\d+$/.test(text)) return m.wholeNumber(label);
  if ((q.type === 'Double' || q.type === 'Decimal') && !Number.isFinite(Number(text))) return m.number(label);
  if (q.type === 'Date') return m.date(label);
  if (q.type === 'Select') return m.chooseOption(label);
  return m.invalid(label);
}

/** Problems by question tag, in `lang`; empty when the form may be saved. */
export function validateFormIn(form: AppForm, answers: Answers, lang: string): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const q of form.questions) {
    const e = localizedProblem(q, answers[q.tag], lang);
    if (e) errors[q.tag] = e;
  }
  return errors;
}
