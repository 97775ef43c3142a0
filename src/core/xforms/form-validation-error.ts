import { XFormError } from '../errors/xform-error.ts';
import type { ValidationIssue } from './form-session-types.ts';

/** `finish()` on a form with unanswered required questions or broken constraints. */
export class FormValidationError extends XFormError {
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], file: string | undefined) {
    const first = issues[0];
    super(
      'answer-invalid',
      `${file === undefined ? '' : `${file}: `}the form cannot be finished: ${issues.length} issue(s)${
        first === undefined ? '' : `, first ${first.ref}: ${first.message}`
      }`,
      { ...(file === undefined ? {} : { file }), ...(first === undefined ? {} : { ref: first.ref }) },
    );
    this.issues = issues;
  }
}
