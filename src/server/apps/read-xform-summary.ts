import { XFormError } from '../../core/errors/xform-error.ts';
import {
  attr,
  childElement,
  childElements,
  textContent,
  type XmlElement,
} from '../../core/protocol/xml-tree.ts';
import type { AppQuestion } from './app-doc.ts';

const CASE_NS = 'http://commcarehq.org/case/transaction/v2';

/** What the Application Structure API tells about one XForm. */
export interface XFormSummary {
  /** The primary instance root's namespace: the xmlns submissions carry. */
  xmlns: string;
  /** The primary instance root's `name` attribute (HQ writes the form's name there). */
  name: string;
  /** Translation languages, default language first. */
  languages: string[];
  questions: AppQuestion[];
  /** The case blocks in the primary instance (the form's own and subcases). */
  caseBlocks: CaseBlockSummary[];
}

export interface CaseBlockSummary {
  /** Path of the `<case>` element (`/data/case`, `/data/subcase_0/case`). */
  path: string;
  /** `create/case_type`, '' when the block creates nothing. */
  createType: string;
  creates: boolean;
  closes: boolean;
  hasIndex: boolean;
  /** Property names written by `create` (case_name) and `update`. */
  properties: string[];
}

interface Bind {
  type?: string;
  required?: string;
  relevant?: string;
  constraint?: string;
  calculate?: string;
}

type Itext = Map<string, Map<string, string>>;

/**
 * Reads an XForm's structure as HQ's `get_questions` lists it
 * (hq:corehq/apps/app_manager/xform.py `XForm.get_questions`): one entry per body control
 * (input, select1, select, trigger, upload, secret, range, group, repeat) with its path,
 * label in the default language and every translation, bind type, required flag and
 * choices; plus the hidden values (binds with a `calculate` that no control shows,
 * `DataBindOnly`), leaving out the case and meta blocks HQ writes itself.
 */
export function readXFormSummary(root: XmlElement, file: string): XFormSummary {
  const head = childElement(root, 'head');
  const model = head && childElement(head, 'model');
  if (!model) throw new XFormError('form-invalid', `${file}: no <h:head><model>`, { file });
  const primary = childElements(model, 'instance').find(
    (i) => attr(i, 'id') === undefined || attr(i, 'id') === '',
  );
  const data = primary && childElements(primary)[0];
  if (!data) throw new XFormError('form-invalid', `${file}: the model has no primary instance`, { file });

  const binds = new Map<string, Bind>();
  for (const b of childElements(model, 'bind')) {
    const nodeset = attr(b, 'nodeset') ?? attr(b, 'ref');
    if (!nodeset) continue;
    const bind: Bind = {};
    for (const key of ['type', 'required', 'relevant', 'constraint', 'calculate'] as const) {
      const v = attr(b, key);
      if (v !== undefined) bind[key] = v;
    }
    binds.set(nodeset, { ...binds.get(nodeset), ...bind });
  }
  const { itext, languages } = readItext(childElement(model, 'itext'));
  const defaultLang = languages[0];

  const questions: AppQuestion[] = [];
  const shown = new Set<string>();
  const label = (el: XmlElement): { label: string; translations?: Record<string, string> } => {
    const l = childElement(el, 'label');
    if (!l) return { label: '' };
    const ref = attr(l, 'ref');
    const id = ref && /jr:itext\(\s*['"]([^'"]+)['"]\s*\)/.exec(ref)?.[1];
    if (!id) return { label: textContent(l).trim() };
    const translations: Record<string, string> = {};
    for (const lang of languages) {
      const t = itext.get(lang)?.get(id);
      if (t !== undefined) translations[lang] = t;
    }
    return { label: (defaultLang && translations[defaultLang]) ?? id, translations };
  };

  const walk = (
    parent: XmlElement,
    context: string,
    group: string | undefined,
    repeat: string | undefined,
  ) => {
    for (const el of childElements(parent)) {
      const kind = el.local;
      if (!CONTROLS.has(kind)) continue;
      const ref = attr(el, kind === 'repeat' ? 'nodeset' : 'ref') ?? attr(el, 'nodeset') ?? attr(el, 'bind');
      // A group without a ref only groups controls on screen: it holds no data.
      if (!ref) {
        if (kind === 'group') walk(el, context, group, repeat);
        continue;
      }
      const path = absolute(ref, context);
      const bind = binds.get(path) ?? {};
      const q: AppQuestion = {
        ...label(el),
        tag: kind === 'group' || kind === 'repeat' ? kind : (path.split('/').pop() ?? ''),
        value: path,
        type: questionType(el, bind),
      };
      if (bind.required !== undefined && /^\s*true\(\)\s*$/.test(bind.required)) q.required = true;
      if (kind === 'select1' || kind === 'select') q.options = options(el, itext, languages);
      if (group !== undefined) q.group = group;
      if (repeat !== undefined) q.repeat = repeat;
      if (bind.relevant !== undefined) q.relevant = bind.relevant;
      if (bind.constraint !== undefined) q.constraint = bind.constraint;
      if (bind.calculate !== undefined) q.calculate = bind.calculate;
      shown.add(path);
      questions.push(q);
      if (kind === 'group') walk(el, path, path, repeat);
      if (kind === 'repeat') walk(el, path, path, path);
    }
  };
  const body = childElement(root, 'body');
  if (body) walk(body, `/${data.local}`, undefined, undefined);

  // Hidden values: calculated nodes no control shows (HQ's `DataBindOnly`), outside the
  // case and meta blocks the app builder writes.
  for (const [path, bind] of binds) {
    if (bind.calculate === undefined || shown.has(path) || path.includes('@')) continue;
    if (/\/(case|meta)(\/|$)/.test(path)) continue;
    questions.push({
      label: path.split('/').pop() ?? path,
      tag: path.split('/').pop() ?? path,
      value: path,
      type: 'DataBindOnly',
      calculate: bind.calculate,
    });
  }

  return {
    xmlns: data.uri,
    name: attr(data, 'name') ?? textContent(childElement(head, 'title') ?? data).trim(),
    languages,
    questions,
    caseBlocks: caseBlocks(data, `/${data.local}`),
  };
}

const CONTROLS = new Set([
  'input',
  'select1',
  'select',
  'trigger',
  'upload',
  'secret',
  'range',
  'group',
  'repeat',
]);

/** HQ's question types (`get_questions`' `type`) from the control and its bind's type. */
function questionType(el: XmlElement, bind: Bind): string {
  switch (el.local) {
    case 'select1':
      return 'Select';
    case 'select':
      return 'MSelect';
    case 'trigger':
      return 'Trigger';
    case 'secret':
      return 'Secret';
    case 'range':
      return 'Range';
    case 'repeat':
      return 'Repeat';
    case 'group':
      return attr(el, 'appearance') === 'field-list' ? 'FieldList' : 'Group';
    case 'upload': {
      const media = attr(el, 'mediatype') ?? '';
      if (media.startsWith('image')) return 'Image';
      if (media.startsWith('audio')) return 'Audio';
      if (media.startsWith('video')) return 'Video';
      return 'Upload';
    }
  }
  const type = (bind.type ?? '').replace(/^.*:/, '').toLowerCase();
  const byType: Record<string, string> = {
    int: 'Int',
    integer: 'Int',
    long: 'Long',
    decimal: 'Decimal',
    double: 'Double',
    date: 'Date',
    time: 'Time',
    datetime: 'DateTime',
    geopoint: 'Geopoint',
    barcode: 'Barcode',
  };
  return byType[type] ?? 'Text';
}

function options(
  el: XmlElement,
  itext: Itext,
  languages: string[],
): { label: string; value: string; translations?: Record<string, string> }[] {
  return childElements(el, 'item').map((item) => {
    const value = textContent(childElement(item, 'value') ?? item).trim();
    const l = childElement(item, 'label');
    const id = l && /jr:itext\(\s*['"]([^'"]+)['"]\s*\)/.exec(attr(l, 'ref') ?? '')?.[1];
    if (!id) return { label: l ? textContent(l).trim() : value, value };
    const translations: Record<string, string> = {};
    for (const lang of languages) {
      const t = itext.get(lang)?.get(id);
      if (t !== undefined) translations[lang] = t;
    }
    return { label: translations[languages[0] ?? ''] ?? id, value, translations };
  });
}

/**
 * The itext block: each translation's plain text by id (the `<value>` without a `form`;
 * `<output value="x"/>` is kept as `<output value="x"/>`, as HQ lists labels). The default
 * language (`default` attribute, else the first) comes first.
 */
function readItext(itextEl: XmlElement | undefined): { itext: Itext; languages: string[] } {
  const itext: Itext = new Map();
  const languages: string[] = [];
  if (!itextEl) return { itext, languages };
  for (const tr of childElements(itextEl, 'translation')) {
    const lang = attr(tr, 'lang') ?? '';
    if (attr(tr, 'default') !== undefined) languages.unshift(lang);
    else languages.push(lang);
    const texts = new Map<string, string>();
    for (const t of childElements(tr, 'text')) {
      const id = attr(t, 'id');
      if (!id) continue;
      const values = childElements(t, 'value');
      const plain = values.find((v) => attr(v, 'form') === undefined) ?? values[0];
      if (plain) texts.set(id, labelText(plain));
    }
    itext.set(lang, texts);
  }
  return { itext, languages };
}

function labelText(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c === 'string') s += c;
    else if (c.local === 'output') s += `<output value="${attr(c, 'value') ?? attr(c, 'ref') ?? ''}"/>`;
    else s += labelText(c);
  }
  return s.trim();
}

function absolute(ref: string, context: string): string {
  if (ref.startsWith('/')) return ref;
  let base = context;
  let rest = ref;
  while (rest.startsWith('../')) {
    base = base.slice(0, base.lastIndexOf('/'));
    rest = rest.slice(3);
  }
  if (rest === '.' || rest === '') return base;
  return `${base}/${rest.replace(/^\.\//, '')}`;
}

const EMPTY: XmlElement = {
  name: '',
  local: '',
  prefix: '',
  uri: '',
  attrs: [],
  children: [],
  nsDecls: {},
  line: 0,
};

function caseBlocks(el: XmlElement, path: string): CaseBlockSummary[] {
  const out: CaseBlockSummary[] = [];
  for (const c of childElements(el)) {
    const p = `${path}/${c.local}`;
    if (c.local === 'case' && c.uri === CASE_NS) {
      const create = childElement(c, 'create');
      const update = childElement(c, 'update');
      const properties: string[] = [];
      if (create && childElement(create, 'case_name')) properties.push('case_name');
      for (const u of update ? childElements(update) : [])
        if (!properties.includes(u.local)) properties.push(u.local);
      out.push({
        path: p,
        createType: textContent(create ? (childElement(create, 'case_type') ?? EMPTY) : EMPTY).trim(),
        creates: create !== undefined,
        closes: childElement(c, 'close') !== undefined,
        hasIndex: childElement(c, 'index') !== undefined,
        properties,
      });
    } else out.push(...caseBlocks(c, p));
  }
  return out;
}
