import {
  type Answers,
  type AppFormDraftInput,
  buildAppFormDraft as coreBuildAppFormDraft,
  buildIncompleteDraft as coreBuildIncompleteDraft,
} from '../../core/apps/app-form-draft.ts';
import type { AppForm } from '../../core/apps/app-structure.ts';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { FormDraft } from '../../core/protocol/submission/form-types.ts';

/**
 * Application forms in the PWA: validation and drafts live in core
 * (`src/core/apps/app-form-draft.ts`); here they take their titles in the browser's
 * language.
 */
export {
  type Answers,
  type AppFormDraftInput,
  answerText,
  nameQuestion,
  readIncompleteDraft,
  validateAnswer,
  validateForm,
} from '../../core/apps/app-form-draft.ts';

const browserLang = (): string => (typeof navigator === 'undefined' ? 'en' : navigator.language);

export function buildAppFormDraft(i: AppFormDraftInput): FormDraft {
  return coreBuildAppFormDraft({ lang: browserLang(), ...i });
}

export function buildIncompleteDraft(i: {
  form: AppForm;
  answers: Answers;
  target?: CaseRecord | null;
  parent?: CaseRecord | null;
}): FormDraft {
  return coreBuildIncompleteDraft({ lang: browserLang(), ...i });
}
