import { type AppAnswers, applyAnswers } from '../apps/apply-answers.ts';
import { autoAnswer } from '../apps/fill-app-form.ts';
import { Prng } from '../lib/prng.ts';
import type { ComposedForm } from '../protocol/submission/form-types.ts';
import type { FormDef } from '../xforms/form-def.ts';
import { FormSession, parseXForm } from '../xforms/form-session.ts';
import type { ValidationIssue } from '../xforms/form-session-types.ts';

export interface FillXFormInput {
  /** The XForm as downloaded, or its parsed definition. */
  form: string | FormDef;
  /** By path (`/data/q`) or question id (`q`), as `applyAnswers` takes them. */
  answers?: AppAnswers;
  /** Answer every remaining required question with a value the form accepts. */
  auto?: boolean;
  seed?: number;
  deviceId: string;
  username?: string;
  now?: () => Date;
  uuid?: () => string;
}

export type FillXFormResult =
  | { ok: true; xml: string; instanceId: string; formId: string; version?: string; name: string }
  | { ok: false; errors: ValidationIssue[]; unanswerable: string[] };

/**
 * Fills a standalone XForm (a generic OpenRosa server's form, no CommCare app around it)
 * with the XForm engine, as ODK Collect would: no secondary instances but the form's own,
 * `deviceid`/`username` properties from the device, the instanceID the form computes
 * (XLSForm writes `concat('uuid:', uuid())`), the root's `id`/`version` kept, which is
 * how Central and Aggregate match a submission to its form.
 */
export function fillXForm(input: FillXFormInput): FillXFormResult {
  const def = typeof input.form === 'string' ? parseXForm(input.form) : input.form;
  const rng = new Prng(input.seed ?? 1, 'openrosa-fill', def.xmlns);
  const session = FormSession.start(def, {
    instances: () => undefined,
    meta: { deviceId: input.deviceId, username: input.username ?? '', userId: '', appVersion: 'fieldsim' },
    env: {
      ...(input.now ? { now: input.now } : {}),
      ...(input.uuid ? { uuid: input.uuid } : {}),
      random: () => rng.next(),
    },
  });
  const errors = applyAnswers(session, input.answers ?? {});
  const unanswerable = input.auto ? autoAnswer(session, rng, input.now?.() ?? new Date()) : [];
  if (errors.length === 0) errors.push(...session.validate());
  if (errors.length > 0) return { ok: false, errors, unanswerable };
  const done = session.finish();
  const rootAttrs = /^<[^\s>/]+([^>]*)>/.exec(done.xml.replace(/^<\?xml[^>]*\?>\s*/, ''))?.[1] ?? '';
  const formId = /\sid="([^"]*)"/.exec(rootAttrs)?.[1] ?? '';
  const version = /\sversion="([^"]*)"/.exec(rootAttrs)?.[1];
  return {
    ok: true,
    xml: done.xml,
    instanceId: done.instanceId,
    formId,
    ...(version === undefined ? {} : { version }),
    name: done.name,
  };
}

/** A filled form as the outbox queues it: no case blocks (a generic server has no cases). */
export function toComposedForm(filled: Extract<FillXFormResult, { ok: true }>, xmlns = ''): ComposedForm {
  return {
    xml: filled.xml,
    instanceId: filled.instanceId,
    xmlns: xmlns || filled.formId,
    formName: filled.name,
    caseBlocks: [],
    size: new TextEncoder().encode(filled.xml).length,
  };
}
