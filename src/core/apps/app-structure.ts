/**
 * An application's modules and forms, read from HQ's Application Structure API
 * (`GET /a/<domain>/api/v0.5/application/[<app_id>/]`, PROTOCOL.md 9.5;
 * hq:docs/api/openapi/components/schemas/application.yaml). The PWA, the QA runner and the
 * CLI all work from this parsed shape; `HqApiClient.applications` returns it.
 *
 * HQ's questions carry `label`, `tag`, `value` (the node's XPath), `type`, `required`,
 * `translations` and, for choice questions, `options`; groups, repeats and label-only
 * entries come in the same list and are left out here. `action` (what a form does to its
 * module's case) is not an HQ field: the fieldsim emulator adds it as a hint, and forms
 * from a real HQ read as `none` (answers only, no case block).
 */
export interface AppQuestion {
  label: string;
  tag: string;
  /** HQ question type (`Text`, `Int`, `Select`, `MSelect`, `Date`, ...). */
  type: string;
  required: boolean;
  options: AppOption[];
  /** The label by language, when HQ sent translations (`include_translations`). */
  translations?: Record<string, string>;
}

export interface AppOption {
  label: string;
  value: string;
  translations?: Record<string, string>;
}

export type AppFormAction = 'register' | 'register-child' | 'update' | 'close' | 'none';

export interface AppForm {
  /** The root xmlns submissions of this form must carry (PROTOCOL.md 9.5). */
  xmlns: string;
  uniqueId: string;
  /** Name by language code. */
  name: Record<string, string>;
  action: AppFormAction;
  questions: AppQuestion[];
}

export interface AppModule {
  uniqueId: string;
  name: Record<string, string>;
  caseType: string;
  /** Every property of the module's case type (`case_properties`); may be empty. */
  caseProperties: string[];
  forms: AppForm[];
}

export interface AppStructure {
  id: string;
  name: string;
  version: number;
  modules: AppModule[];
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Module names are a plain string in HQ's schema, form names a dict by language: accept both. */
function names(v: unknown): Record<string, string> {
  if (typeof v === 'string') return { en: v };
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(rec(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

function action(v: unknown): AppFormAction {
  return v === 'register' || v === 'register-child' || v === 'update' || v === 'close' ? v : 'none';
}

/** Question tags fieldsim can write as a form node: one XML name, no group path. */
const TAG_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/**
 * Entries of HQ's question list that hold no answer: groups and repeats themselves
 * (`include_groups`) and label-only questions (`include_triggers`), per
 * `form.get_questions(...)` (PROTOCOL.md 9.5).
 */
const NOT_ANSWERS = new Set(['Group', 'Repeat', 'FieldList', 'Trigger']);

/** `translations: {lang: text}` when present and non-empty. */
function translationsOf(v: unknown): { translations?: Record<string, string> } {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(rec(v))) if (typeof x === 'string' && x !== '') out[k] = x;
  return Object.keys(out).length > 0 ? { translations: out } : {};
}

function question(q0: unknown): AppQuestion | undefined {
  const q = rec(q0);
  const type = str(q.type, 'Text');
  // Answers inside a repeat need one node per iteration, which fieldsim does not write.
  if (NOT_ANSWERS.has(type) || (typeof q.repeat === 'string' && q.repeat !== '')) return undefined;
  const tag = str(q.tag);
  if (!TAG_RE.test(tag)) return undefined;
  return {
    label: str(q.label, tag),
    tag,
    type,
    required: q.required === true,
    options: arr(q.options).map((o0) => {
      const o = rec(o0);
      return { label: str(o.label, str(o.value)), value: str(o.value), ...translationsOf(o.translations) };
    }),
    ...translationsOf(q.translations),
  };
}

/**
 * Reads one application object defensively: anything missing becomes empty, never an
 * error. Accepts HQ's wire shape (`unique_id`, `case_type`, ...) and reads back the same
 * shape written by a cache. A module that failed to serialise on HQ (`{"error": "..."}`)
 * becomes a module without forms.
 */
export function parseApplication(raw: unknown): AppStructure {
  const a = rec(raw);
  return {
    id: str(a.id),
    name: str(a.name, 'Application'),
    version: typeof a.version === 'number' ? a.version : 0,
    modules: arr(a.modules).map((m0) => {
      const m = rec(m0);
      return {
        uniqueId: str(m.unique_id),
        name: names(m.name),
        caseType: str(m.case_type),
        caseProperties: arr(m.case_properties).filter((p): p is string => typeof p === 'string'),
        forms: arr(m.forms).map((f0) => {
          const f = rec(f0);
          return {
            xmlns: str(f.xmlns),
            uniqueId: str(f.unique_id),
            name: names(f.name),
            action: action(f.action),
            questions: arr(f.questions)
              .map(question)
              .filter((q): q is AppQuestion => q !== undefined),
          };
        }),
      };
    }),
  };
}

/**
 * The inverse of `parseApplication`, in HQ's key names: what a cache stores so that
 * `parseApplication` reads it back unchanged.
 */
export function applicationToWire(a: AppStructure): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    version: a.version,
    modules: a.modules.map((m) => ({
      unique_id: m.uniqueId,
      name: m.name,
      case_type: m.caseType,
      case_properties: m.caseProperties,
      forms: m.forms.map((f) => ({
        xmlns: f.xmlns,
        unique_id: f.uniqueId,
        name: f.name,
        action: f.action,
        questions: f.questions,
      })),
    })),
  };
}

/** The name in language `lang` (`pt-BR`, then `pt`), else English, else any. */
export function localName(n: Record<string, string>, lang = 'en'): string {
  const short = lang.split('-')[0] ?? 'en';
  return n[lang] ?? n[short] ?? n.en ?? Object.values(n)[0] ?? '';
}

export interface FoundForm {
  app: AppStructure;
  module: AppModule;
  form: AppForm;
}

/** A form by application id and form `unique_id`. */
export function findForm(apps: AppStructure[], appId: string, formId: string): FoundForm | undefined {
  const app = apps.find((a) => a.id === appId);
  if (!app) return undefined;
  for (const module of app.modules) {
    const form = module.forms.find((f) => f.uniqueId === formId);
    if (form) return { app, module, form };
  }
  return undefined;
}

/**
 * A form named the way a person or a scenario file names it: its xmlns, its `unique_id`,
 * or its name in any language (case-insensitive, surrounding spaces ignored). The first
 * match in application, module and form order wins.
 */
export function findFormByName(apps: AppStructure[], key: string): FoundForm | undefined {
  const k = key.trim();
  const lower = k.toLowerCase();
  for (const app of apps)
    for (const module of app.modules)
      for (const form of module.forms)
        if (
          form.xmlns === k ||
          form.uniqueId === k ||
          Object.values(form.name).some((n) => n.trim().toLowerCase() === lower)
        )
          return { app, module, form };
  return undefined;
}
