import { FieldsimError } from '../errors/fieldsim-error.ts';
import { XFormError } from '../errors/xform-error.ts';
import { Prng } from '../lib/prng.ts';
import type { CaseBlock } from '../protocol/casexml/case-types.ts';
import { readForm } from '../protocol/submission/read-form.ts';
import type { CommCareApp } from '../suite/commcare-app.ts';
import { computeDatum } from '../suite/compute-datum.ts';
import { findEntry } from '../suite/menu-navigation.ts';
import {
  displayText,
  evaluateNodes,
  evaluateString,
  inSuite,
  makeScope,
  type SuiteContext,
} from '../suite/suite-context.ts';
import type { EntityDatum, SuiteEntry } from '../suite/suite-model.ts';
import type { FormDef } from '../xforms/form-def.ts';
import { FormSession, parseXForm } from '../xforms/form-session.ts';
import type { QuestionState, ValidationIssue } from '../xforms/form-session-types.ts';
import { type AppDeviceData, instanceResolver } from './app-device-data.ts';
import { type AppAnswers, applyAnswers } from './apply-answers.ts';
import { autoCandidates } from './auto-answer.ts';

/**
 * Fills one form of a real CommCare app the way a worker does on the phone: pick the
 * entry, satisfy its session datums (chosen cases in order, computed ones such as
 * `uuid()` evaluated), open the XForm with casedb, session and fixture instances from the
 * device, answer, optionally generate the rest (`auto`), validate and serialize. The CLI's
 * `app fill` / `app check`, the QA runner and tests share it; saving to the outbox is the
 * caller's (`Session.saveFinishedForm`).
 */
export interface AppFormFillInput {
  app: CommCareApp;
  /** Command id (`m2-f0`), form xmlns, or `Menu name/Form name` in the default language. */
  form: string;
  device: AppDeviceData;
  /** Case ids for the entry's case-selection datums, in order. */
  cases?: readonly string[];
  /** Datum values given by name (`case_id=...`), before `cases` are assigned. */
  datums?: Readonly<Record<string, string>>;
  answers?: AppAnswers;
  /** Generate a value for every relevant required question still empty. */
  auto?: boolean;
  seed?: number | string;
  lang?: string;
  now?: () => Date;
  uuid?: () => string;
  random?: () => number;
}

export interface AppFormFillResult {
  form: { command: string; xmlns: string; name: string };
  /** The submission, when the form validated. */
  xml?: string;
  instanceId?: string;
  caseBlocks: CaseBlock[];
  errors: ValidationIssue[];
  /** The session's datums as the form saw them. */
  sessionData: Record<string, string>;
  /** Required questions `auto` found no acceptable value for. */
  unanswerable: string[];
}

const parsedForms = new WeakMap<object, FormDef>();

/** The entry's form, parsed once per loaded app (the runner fills it many times). */
export function entryFormDef(app: CommCareApp, entry: SuiteEntry): FormDef {
  if (entry.kind !== 'entry' || entry.formXmlns === undefined)
    throw new XFormError('form-not-found', `${entry.commandId} does not open a form`, {
      file: entry.file,
      ref: entry.commandId,
    });
  const f = app.forms.get(entry.formXmlns);
  if (f === undefined)
    throw new XFormError(
      'app-invalid',
      `${entry.commandId} opens the form ${entry.formXmlns}, which the app does not contain`,
      { file: entry.file, ref: entry.formXmlns },
    );
  let def = parsedForms.get(f);
  if (def === undefined) {
    def = parseXForm(f.xml, { file: f.path });
    parsedForms.set(f, def);
  }
  return def;
}

/** Whether the entry asks the user to pick a case (or other entity) before its form. */
export function entryNeedsCase(entry: SuiteEntry): boolean {
  return entry.datums.some((d) => d.kind === 'entity');
}

export function fillAppForm(input: AppFormFillInput): AppFormFillResult {
  const { app, device } = input;
  const entry = findEntry(app, input.form);
  const def = entryFormDef(app, entry);
  const lang = input.lang ?? app.defaultLanguage;
  // One resolver for the datum screens: its instances (casedb above all) are built once.
  const deviceInstances = instanceResolver(device, {});
  const baseCtx: Omit<SuiteContext, 'sessionData'> = {
    instance: deviceInstances,
    user: device.user,
    lang,
    ...(input.now ? { now: input.now } : {}),
    ...(input.uuid ? { uuid: input.uuid } : {}),
    ...(input.random ? { random: input.random } : {}),
  };
  const sessionData = chooseDatums(app, entry, baseCtx, input);
  const name = safeDisplay(app, entry, { ...baseCtx, sessionData }) || def.name;
  const result: AppFormFillResult = {
    form: { command: entry.commandId, xmlns: def.xmlns, name },
    caseBlocks: [],
    errors: [],
    sessionData,
    unanswerable: [],
  };
  const rng = new Prng(input.seed ?? 1, 'app-fill', entry.commandId);
  const session = FormSession.start(def, {
    instances: instanceResolver(device, sessionData),
    meta: {
      deviceId: device.user.deviceid,
      username: device.user.username,
      userId: device.user.userid,
      appVersion: device.user.appversion,
    },
    env: {
      ...(input.now ? { now: input.now } : {}),
      ...(input.uuid ? { uuid: input.uuid } : {}),
      random: input.random ?? (() => rng.next()),
    },
    ...(def.itext.languages.includes(lang) ? { language: lang } : {}),
  });
  result.errors.push(...applyAnswers(session, input.answers ?? {}));
  if (input.auto) result.unanswerable.push(...autoAnswer(session, rng, input.now?.() ?? new Date()));
  if (result.errors.length === 0) result.errors.push(...session.validate());
  if (result.errors.length > 0) return result;
  const done = session.finish();
  result.xml = done.xml;
  result.instanceId = done.instanceId;
  result.caseBlocks = readForm(done.xml).caseBlocks.map(({ version: _v, path: _p, ...block }) => block);
  return result;
}

/**
 * Session data for the entry: `datums` given by name first, then each case-selection datum
 * takes the next `cases` id (checked against the datum's own nodeset, as the phone only
 * offers cases from that list), computed datums are evaluated in order with what was
 * chosen before them (commcare-core `CommCareSession.getNeededData`).
 */
function chooseDatums(
  app: CommCareApp,
  entry: SuiteEntry,
  ctx: Omit<SuiteContext, 'sessionData'>,
  input: AppFormFillInput,
): Record<string, string> {
  const data: Record<string, string> = { ...(input.datums ?? {}) };
  const cases = [...(input.cases ?? [])];
  for (const d of entry.datums) {
    if (Object.hasOwn(data, d.id)) continue;
    if (d.kind === 'computed') {
      data[d.id] = computeDatum(app, entry, d.id, { ...ctx, sessionData: { ...data } });
      continue;
    }
    const caseId = cases.shift();
    if (caseId === undefined)
      throw new FieldsimError(
        'invalid-argument',
        `${entry.commandId} needs a case for datum ${d.id}: pass --case CASE_ID (or --datum ${d.id}=VALUE)`,
      );
    const offered = datumValues(app, entry, d, { ...ctx, sessionData: { ...data } });
    if (!offered.includes(caseId))
      throw new FieldsimError(
        'invalid-argument',
        `case ${caseId} is not in the list for datum ${d.id} of ${entry.commandId} (${offered.length} cases are: wrong type, closed, or not on this device?)`,
      );
    data[d.id] = caseId;
  }
  if (cases.length > 0)
    throw new FieldsimError(
      'invalid-argument',
      `${entry.commandId} takes ${entry.datums.filter((d) => d.kind === 'entity').length} case(s); ${cases.length} more given`,
    );
  return data;
}

/** The values a case-selection datum offers (its nodeset's `value` per node). */
export function datumValues(
  app: CommCareApp,
  entry: SuiteEntry,
  datum: EntityDatum,
  ctx: SuiteContext,
): string[] {
  const scope = makeScope(app, ctx, entry.instances);
  return inSuite(`nodeset of datum ${datum.id}`, entry.file, () =>
    evaluateNodes(scope, datum.nodeset).map((n) => evaluateString(scope, datum.value, n)),
  );
}

function safeDisplay(app: CommCareApp, entry: SuiteEntry, ctx: SuiteContext): string {
  try {
    return displayText(makeScope(app, ctx, entry.instances), entry.display.text);
  } catch {
    return '';
  }
}

/**
 * Answers every relevant, required, empty question with the first candidate the form
 * accepts. Answers change relevance (a "yes" opens a follow-up group), so it walks the
 * form again until a pass answers nothing new. Returns the refs no candidate satisfied.
 */
export function autoAnswer(session: FormSession, rng: Prng, today: Date): string[] {
  const failed = new Set<string>();
  for (let pass = 0; pass < 50; pass++) {
    let answered = false;
    for (const q of session.questions()) {
      if (!needsAuto(q) || failed.has(q.ref)) continue;
      let ok = false;
      for (const v of autoCandidates(q, rng, today)) {
        if (session.answer(q.ref, v).ok) {
          ok = true;
          break;
        }
      }
      if (ok) answered = true;
      else failed.add(q.ref);
    }
    if (!answered) break;
  }
  return [...failed];
}

function needsAuto(q: QuestionState): boolean {
  if (!q.relevant || !q.required || q.readonly || q.value !== '') return false;
  return q.kind !== 'group' && q.kind !== 'repeat' && q.kind !== 'repeat-instance';
}
