import { XFormError } from '../errors/xform-error.ts';
import type { FormSession } from '../xforms/form-session.ts';
import type { ValidationIssue } from '../xforms/form-session-types.ts';

/**
 * Answers by absolute question path (`/data/q`, `/data/rep[2]/q`), as `--answers` files
 * give them, or by question id (`q`) as scenario steps do. Numbers are written as the phone writes them; a list or a
 * space-separated string answers a multi-select.
 */
export type AppAnswers = Readonly<Record<string, string | number | readonly string[]>>;

/**
 * Applies answers in the order given. A position past the repeat's current count adds
 * instances up to it, as a worker pressing "add" would (only for repeats the user
 * controls; a `jr:count` repeat keeps the count its expression gives). A value the form
 * refuses (type, choice, constraint) comes back as an issue; a path the form does not have
 * throws `answer-invalid` naming it.
 */
export function applyAnswers(session: FormSession, answers: AppAnswers): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [ref, raw] of Object.entries(answers)) {
    const path = ref.startsWith('/') ? ref : pathOfTag(session, ref);
    ensureRepeats(session, path);
    const value = typeof raw === 'string' || typeof raw === 'number' ? raw : [...raw];
    const r = session.answer(path, value);
    if (!r.ok) issues.push(r.issue);
  }
  return issues;
}

/**
 * A bare question id (`household_size`), as the QA runner's scenarios name answers: the
 * first question whose path ends with it, in form order.
 */
function pathOfTag(session: FormSession, tag: string): string {
  for (const q of session.questions()) {
    if (q.kind === 'group' || q.kind === 'repeat' || q.kind === 'repeat-instance') continue;
    if (q.ref.replace(/\[\d+\]/g, '').endsWith(`/${tag}`)) return q.ref;
  }
  throw new XFormError('answer-invalid', `the form has no question "${tag}"`, { ref: tag });
}

function ensureRepeats(session: FormSession, ref: string): void {
  const parts = ref.split('/').slice(1);
  let prefix = '';
  for (const part of parts) {
    const m = /^(.*)\[(\d+)\]$/.exec(part);
    if (m) {
      const base = `${prefix}/${m[1]}`;
      const want = Number(m[2]);
      let guard = 0;
      while (session.question(`${base}[${want}]`) === undefined && guard++ < want) {
        // A repeat the user cannot grow fails here with the form's own message.
        session.addRepeat(base);
      }
    }
    prefix += `/${part}`;
  }
}
