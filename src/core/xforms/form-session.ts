import { v4 as uuidv4 } from 'uuid';
import { XFormError } from '../errors/xform-error.ts';
import type { ControlDef, FormDef, QuestionControlDef, TextDef } from './form-def.ts';
import type {
  AnswerResult,
  FinishedForm,
  FormSessionOptions,
  FormSnapshot,
  QuestionState,
  SnapshotNode,
  ValidationIssue,
} from './form-session-types.ts';
import { FormValidationError } from './form-validation-error.ts';
import { checkType } from './model/check-type.ts';
import { FormModel, genericPath } from './model/form-model.ts';
import { formatDate, formatDateTime } from './model/format-date.ts';
import { parentPath, resolveRefPath } from './model/generic-path.ts';
import { renderText } from './model/render-text.ts';
import { serializeInstance } from './model/serialize-instance.ts';
import { compileExpression } from './parse/compile-expression.ts';
import { InstanceAttribute, InstanceNode, type XPathNode } from './tree/instance-node.ts';
import type { XPathEnvironment, XPathEvalContext, XPathFunction } from './xpath/xpath-types.ts';
import { toXPathString } from './xpath/xpath-values.ts';

export type {
  AnswerResult,
  FinishedForm,
  FormSessionOptions,
  FormSnapshot,
  QuestionState,
  ValidationIssue,
} from './form-session-types.ts';
export { FormValidationError } from './form-validation-error.ts';
export { parseXForm } from './parse/parse-xform.ts';

const DEFAULT_REQUIRED = 'An answer is required.';
const DEFAULT_CONSTRAINT = 'This answer is not valid.';

/**
 * One filling-in of a form: what the phone's FormEntryController does for a user, as an
 * API the CLI, the QA runner and the PWA share. Start it from a parsed FormDef, read the
 * questions, answer by instance path, add repeats, validate, finish to get the XML HQ
 * receives; snapshot/resume keeps a half-filled form across page reloads.
 */
export class FormSession {
  readonly def: FormDef;
  private readonly opts: FormSessionOptions;
  private readonly model: FormModel;
  private lang: string;
  private readonly instanceId: string;
  private readonly timeStart: string;
  private readonly questionPaths: ReadonlyMap<string, QuestionControlDef>;

  private constructor(
    def: FormDef,
    opts: FormSessionOptions,
    doc: InstanceNode,
    instanceId: string,
    timeStart: string,
  ) {
    this.def = def;
    this.opts = opts;
    this.model = new FormModel(def, doc, makeEnv(def, opts, doc, this.hostFunctions()));
    // A language the form does not have falls back to its default (a runner may ask every
    // form for `en`; forms without itext have none).
    this.lang =
      opts.language !== undefined && def.itext.languages.includes(opts.language)
        ? opts.language
        : (def.itext.defaultLanguage ?? '');
    this.instanceId = instanceId;
    this.timeStart = timeStart;
    this.questionPaths = questionControls(def.body);
  }

  /**
   * Starts a new form as the phone does on opening it (commcare-core FormDef.initialize):
   * the instance copied, `jr:preload` values filled, every triggerable computed (this adds
   * `jr:count` repeat instances), then the `xforms-ready` setvalues and a recompute.
   */
  static start(def: FormDef, opts: FormSessionOptions): FormSession {
    const now = opts.env?.now ?? (() => new Date());
    const uuid = opts.env?.uuid ?? uuidv4;
    const s = new FormSession(def, opts, def.instance.clone(), uuid(), formatDateTime(now()));
    s.preload();
    s.model.recomputeAll();
    for (const sv of def.setvalues)
      if (sv.event === 'xforms-ready') s.model.runSetvalue(sv, undefined, false);
    s.model.recomputeAll();
    return s;
  }

  /** Resumes from a snapshot: the instance as it was, its state recomputed; no preloads or xforms-ready again. */
  static resume(def: FormDef, snap: FormSnapshot, opts: FormSessionOptions): FormSession {
    if (snap.version !== 1 || snap.xmlns !== def.xmlns)
      throw new XFormError('form-invalid', `the snapshot is not for this form (${snap.xmlns})`, {
        ...(def.file === undefined ? {} : { file: def.file }),
      });
    const doc = InstanceNode.document();
    doc.appendChild(fromSnapshot(snap.instance));
    const s = new FormSession(
      def,
      { ...opts, language: snap.language },
      doc,
      snap.instanceId,
      snap.timeStart,
    );
    s.model.recomputeAll(true);
    return s;
  }

  languages(): string[] {
    return [...this.def.itext.languages];
  }

  language(): string {
    return this.lang;
  }

  setLanguage(lang: string): void {
    if (!this.def.itext.languages.includes(lang))
      throw new XFormError(
        'answer-invalid',
        `the form has no language "${lang}" (it has ${this.def.itext.languages.join(', ')})`,
      );
    this.lang = lang;
  }

  /** Every control in body order, repeats expanded, groups and repeats as entries too. */
  questions(): QuestionState[] {
    const out: QuestionState[] = [];
    this.walk(this.def.body, this.model.root, 0, undefined, true, out);
    return out;
  }

  question(ref: string): QuestionState | undefined {
    const node = this.find(ref);
    if (node === undefined) return undefined;
    const canonical = concreteRef(node, this.def);
    return this.questions().find((q) => q.ref === canonical);
  }

  /**
   * Answers a question (or sets any leaf of the instance) by path. Like the phone
   * (FormEntryController.answerQuestion), a value of the wrong type, a choice that is not
   * offered or a broken constraint is refused and returned as an issue; the value is kept
   * only when it passes.
   */
  answer(ref: string, value: string | number | string[] | null): AnswerResult {
    const node = this.find(ref);
    if (node === undefined || (node instanceof InstanceNode && node.children.length > 0))
      throw new XFormError('answer-invalid', `${ref} is not a question of this form`, this.where(ref));
    const canonical = concreteRef(node, this.def);
    if (this.model.isReadonly(node))
      throw new XFormError('answer-invalid', `${canonical} is read-only`, this.where(canonical));
    const v =
      value === null
        ? ''
        : Array.isArray(value)
          ? value.join(' ')
          : typeof value === 'number'
            ? numberText(value)
            : value;
    const path = genericPath(node);
    const bind = this.def.bindsByPath.get(path);
    const control = this.questionPaths.get(path);
    const issue = (code: ValidationIssue['code'], message: string): AnswerResult => ({
      ok: false,
      ref: canonical,
      issue: { ref: canonical, code, message },
    });
    const typeMsg = checkType(bind?.type ?? 'string', v);
    if (typeMsg !== undefined) return issue('type', typeMsg);
    if (control !== undefined && (control.kind === 'select1' || control.kind === 'select') && v !== '') {
      const offered = new Set(this.choices(control, node).map((c) => c.value));
      const picked = control.kind === 'select' ? v.split(/\s+/).filter((x) => x !== '') : [v];
      const bad = picked.find((p) => !offered.has(p));
      if (bad !== undefined) return issue('type', `"${bad}" is not one of the choices`);
      if (control.kind === 'select1' && picked.length > 1)
        return issue('type', 'only one choice may be selected');
    }
    if (v !== '' && bind?.constraint !== undefined) {
      const before = node.storedValue;
      node.storedValue = v;
      const ok = bind.constraint.evaluateBoolean(this.model.context(node));
      node.storedValue = before;
      if (!ok) return issue('constraint', this.message(bind.constraintMsg, node, DEFAULT_CONSTRAINT));
    }
    if (this.model.setValue(node, v)) {
      for (const sv of this.def.setvalues)
        if (sv.event === 'xforms-value-changed' && sv.sourcePath === path)
          this.model.runSetvalue(sv, node, true);
    }
    return { ok: true, ref: canonical, value: v };
  }

  /** Adds an instance to a user-controlled repeat; returns its ref (`/data/rep[3]`). */
  addRepeat(repeatRef: string): string {
    const { parent, path, repeat } = this.repeatTarget(repeatRef);
    if (repeat.noAddRemove || repeat.count !== undefined)
      throw new XFormError(
        'answer-invalid',
        `the repeat ${path} does not let the user add instances`,
        this.where(repeatRef),
      );
    const node = this.model.addRepeatInstance(parent, path);
    return concreteRef(node, this.def);
  }

  removeRepeat(instanceRef: string): void {
    const node = this.find(instanceRef);
    if (!(node instanceof InstanceNode) || node.parent === null)
      throw new XFormError(
        'answer-invalid',
        `${instanceRef} is not a repeat instance`,
        this.where(instanceRef),
      );
    const repeat = this.def.repeats.get(genericPath(node));
    if (repeat === undefined)
      throw new XFormError(
        'answer-invalid',
        `${instanceRef} is not a repeat instance`,
        this.where(instanceRef),
      );
    if (repeat.noAddRemove || repeat.count !== undefined)
      throw new XFormError(
        'answer-invalid',
        `the repeat ${repeat.path} does not let the user remove instances`,
        this.where(instanceRef),
      );
    const parent = node.parent;
    parent.children.splice(parent.children.indexOf(node), 1);
    node.parent = null;
    this.model.structureChanged();
    this.model.recomputeRepeat(repeat.path, undefined);
  }

  /**
   * Checks every relevant question as the phone does before it saves
   * (FormEntryController / FormDef.validate): required and empty, a value of the wrong
   * type, a constraint that is false. Empty answers skip constraints.
   */
  validate(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const [path] of this.questionPaths) {
      const bind = this.def.bindsByPath.get(path);
      for (const node of this.model.nodesFor(path)) {
        if (!this.model.isRelevant(node)) continue;
        const ref = concreteRef(node, this.def);
        const el = node instanceof InstanceAttribute ? node.owner : node;
        const v = node.storedValue;
        if (v === '') {
          if (el.required)
            issues.push({
              ref,
              code: 'required',
              message: this.message(bind?.requiredMsg, node, DEFAULT_REQUIRED),
            });
          continue;
        }
        const typeMsg = checkType(bind?.type ?? 'string', v);
        if (typeMsg !== undefined) {
          issues.push({ ref, code: 'type', message: typeMsg });
          continue;
        }
        if (bind?.constraint !== undefined && !bind.constraint.evaluateBoolean(this.model.context(node)))
          issues.push({
            ref,
            code: 'constraint',
            message: this.message(bind.constraintMsg, node, DEFAULT_CONSTRAINT),
          });
      }
    }
    return issues;
  }

  /**
   * Completes the form: `xforms-revalidate` setvalues and `timestamp end` preloads run,
   * validation must pass (else FormValidationError with the issues), the meta block the
   * form declares is filled where still empty (`timeEnd` always), non-relevant nodes are
   * pruned (JavaRosa's serializer skips them, so a non-relevant case block is not sent).
   * No meta block is added to a form that has none: the phone does not add one either.
   */
  finish(): FinishedForm {
    for (const sv of this.def.setvalues)
      if (sv.event === 'xforms-revalidate') this.model.runSetvalue(sv, undefined, true);
    const now = formatDateTime(this.now());
    for (const b of this.def.binds)
      if (b.preload === 'timestamp' && b.preloadParams === 'end')
        for (const n of this.model.nodesFor(b.path)) this.model.setValue(n, now);
    const issues = this.validate();
    if (issues.length > 0) throw new FormValidationError(issues, this.def.file);
    const root = this.model.root;
    const meta = root.children.find((c) => c.name === 'meta');
    let instanceId = this.instanceId;
    if (meta !== undefined) {
      const m = this.opts.meta;
      const fill = (name: string, value: string, always = false): void => {
        const n = meta.children.find((c) => c.name === name);
        if (n !== undefined && (always || n.storedValue === '')) n.storedValue = value;
      };
      fill('instanceID', this.instanceId);
      fill('timeStart', this.timeStart);
      fill('timeEnd', now, true);
      fill('deviceID', m.deviceId);
      fill('username', m.username);
      fill('userID', m.userId);
      fill('appVersion', m.appVersion);
      const id = meta.children.find((c) => c.name === 'instanceID')?.storedValue;
      if (id !== undefined && id !== '') instanceId = id;
    }
    const xml = serializeInstance(root, (n) => n.selfRelevant);
    return { xml, instanceId, xmlns: this.def.xmlns, name: this.def.name };
  }

  /**
   * Evaluates an XPath expression against the form as it stands (string value), with
   * `contextRef` (default: the instance root) as the context node: for runner assertions
   * and debugging, as formplayer's "evaluate XPath" console.
   */
  evaluate(xpath: string, contextRef?: string): string {
    const node = contextRef === undefined ? this.model.root : this.find(contextRef);
    if (node === undefined)
      throw new XFormError(
        'answer-invalid',
        `${contextRef ?? ''} is not in this form`,
        this.where(contextRef ?? ''),
      );
    const expr = compileExpression(xpath, {
      file: this.def.file,
      ref: contextRef ?? '/',
      attribute: 'expression',
    });
    return expr.evaluateString(this.model.context(node));
  }

  snapshot(): FormSnapshot {
    return {
      version: 1,
      xmlns: this.def.xmlns,
      instance: toSnapshot(this.model.root),
      language: this.lang,
      instanceId: this.instanceId,
      timeStart: this.timeStart,
    };
  }

  // --- internals ---

  /** A label, hint or message in a language, for the node `ctx` is evaluated for. */
  private text(def: TextDef | undefined, lang: string, ctx: XPathEvalContext, form = ''): string | undefined {
    return renderText(this.def.itext, def, lang, ctx, form);
  }

  /** `jr:itext` and `jr:choice-name` (see model/host-functions.ts). */
  private hostFunctions(): Map<string, XPathFunction> {
    const itext: XPathFunction = (args, ctx) => {
      const id = toXPathString(args[0] ?? '');
      return this.text({ itextId: id }, this.lang, ctx) ?? '';
    };
    const choiceName: XPathFunction = (args, ctx) => {
      const value = toXPathString(args[0] ?? '');
      const path = resolveRefPath(toXPathString(args[1] ?? ''), '/');
      const control = path === undefined ? undefined : this.questionPaths.get(path);
      if (control === undefined) return '';
      const node = this.model.nodesFor(control.path, ctx.node)[0] ?? ctx.node;
      return this.choices(control, node).find((c) => c.value === value)?.label ?? '';
    };
    return new Map([
      ['jr:itext', itext],
      ['itext', itext],
      ['jr:choice-name', choiceName],
      ['choice-name', choiceName],
    ]);
  }

  private now(): Date {
    return (this.opts.env?.now ?? (() => new Date()))();
  }

  private where(ref: string): { file?: string; ref: string } {
    return { ...(this.def.file === undefined ? {} : { file: this.def.file }), ref };
  }

  /** `jr:preload` (JavaRosa QuestionPreloader): uid, timestamp start, date today, property. */
  private preload(): void {
    const now = this.now();
    const m = this.opts.meta;
    for (const b of this.def.binds) {
      if (b.preload === undefined) continue;
      const params = b.preloadParams ?? '';
      let v: string | undefined;
      if (b.preload === 'uid') v = this.model.env.uuid();
      else if (b.preload === 'timestamp' && params === 'start') v = formatDateTime(now);
      else if (b.preload === 'date' && params === 'today') v = formatDate(now);
      else if (b.preload === 'property') {
        const props: Record<string, string> = {
          deviceid: m.deviceId,
          username: m.username,
          userid: m.userId,
          appversion: m.appVersion,
        };
        v = props[params.toLowerCase()];
      }
      if (v === undefined) continue;
      for (const n of this.model.nodesFor(b.path)) n.value = v;
    }
  }

  private message(def: TextDef | undefined, node: XPathNode, fallback: string): string {
    const t = this.text(def, this.lang, this.model.context(node));
    return t === undefined || t === '' ? fallback : t;
  }

  private find(ref: string): XPathNode | undefined {
    const steps = ref.split('/').filter((s) => s !== '');
    let cur: InstanceNode = this.model.doc;
    for (let i = 0; i < steps.length; i++) {
      const raw = steps[i] as string;
      if (raw.startsWith('@')) {
        if (i !== steps.length - 1) return undefined;
        const a = cur.attributes.find((x) => x.name === raw.slice(1));
        return a;
      }
      const m = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(raw);
      if (!m) return undefined;
      const name = m[1] as string;
      const local = name.slice(name.indexOf(':') + 1);
      const pos = m[2] === undefined ? 1 : Number(m[2]);
      let k = 0;
      let found: InstanceNode | undefined;
      for (const c of cur.children)
        if (c.name === local && ++k === pos) {
          found = c;
          break;
        }
      if (found === undefined) return undefined;
      cur = found;
    }
    return cur === this.model.doc ? undefined : cur;
  }

  private repeatTarget(ref: string): {
    parent: InstanceNode;
    path: string;
    repeat: NonNullable<ReturnType<FormDef['repeats']['get']>>;
  } {
    const trimmed = ref.replace(/\[\d+\]$/, '');
    const slash = trimmed.lastIndexOf('/');
    const parent = slash <= 0 ? undefined : this.find(trimmed.slice(0, slash));
    const name = trimmed.slice(slash + 1);
    if (!(parent instanceof InstanceNode))
      throw new XFormError('answer-invalid', `${ref} is not a repeat of this form`, this.where(ref));
    const path = `${genericPath(parent)}/${name.slice(name.indexOf(':') + 1)}`;
    const repeat = this.def.repeats.get(path);
    if (repeat === undefined)
      throw new XFormError('answer-invalid', `${ref} is not a repeat of this form`, this.where(ref));
    return { parent, path, repeat };
  }

  private choices(control: QuestionControlDef, node: XPathNode): { value: string; label: string }[] {
    const ctx = this.model.context(node);
    const out: { value: string; label: string }[] = [];
    for (const item of control.items)
      out.push({
        value: item.value,
        label: this.text(item.label, this.lang, ctx) ?? item.value,
      });
    if (control.itemset !== undefined) {
      const is = control.itemset;
      const nodes = is.nodeset.evaluateNodes(ctx);
      nodes.forEach((n, i) => {
        const ictx = { node: n, position: i + 1, size: nodes.length, env: this.model.env, current: node };
        const value = is.value.evaluateString(ictx);
        out.push({ value, label: this.text(is.label, this.lang, ictx) ?? value });
      });
    }
    return out;
  }

  private walk(
    controls: readonly ControlDef[],
    context: InstanceNode,
    depth: number,
    parentRef: string | undefined,
    parentRelevant: boolean,
    out: QuestionState[],
  ): void {
    controls.forEach((c, i) => {
      const withParent = parentRef === undefined ? {} : { parentRef };
      if (c.kind === 'group') {
        // HQ wraps a repeat in a group with the repeat's own path; that group stands for
        // the repeat as a whole, not for its first instance.
        const gpath = c.path !== undefined && this.def.repeats.has(c.path) ? undefined : c.path;
        const node =
          gpath === undefined
            ? undefined
            : (this.model.nodesFor(gpath, context)[0] as InstanceNode | undefined);
        const ref = node === undefined ? `${parentRef ?? ''}#${i + 1}` : concreteRef(node, this.def);
        const relevant = node === undefined ? parentRelevant : this.model.isRelevant(node);
        const ctx = this.model.context(node ?? context);
        out.push({
          ref,
          kind: 'group',
          dataType: '',
          label: this.text(c.label, this.lang, ctx) ?? '',
          ...optional('appearance', c.appearance),
          relevant,
          required: false,
          readonly: node === undefined ? false : this.model.isReadonly(node),
          value: '',
          depth,
          ...withParent,
          fieldList: c.fieldList,
        });
        this.walk(c.children, node ?? context, depth + 1, ref, relevant, out);
        return;
      }
      if (c.kind === 'repeat') {
        const parentNode = this.model.nodesFor(parentPath(c.path), context)[0];
        if (!(parentNode instanceof InstanceNode)) return;
        const name = c.path.slice(c.path.lastIndexOf('/') + 1);
        const instances = parentNode.children.filter((x) => x.name === name);
        const userControlled = !c.noAddRemove && c.count === undefined;
        const ref = `${concreteRef(parentNode, this.def)}/${name}`;
        const relevant = this.model.isRelevant(parentNode) && parentRelevant;
        const ctx = this.model.context(parentNode);
        out.push({
          ref,
          kind: 'repeat',
          dataType: '',
          label: this.text(c.label, this.lang, ctx) ?? '',
          ...optional('appearance', c.appearance),
          relevant,
          required: false,
          readonly: false,
          value: '',
          depth,
          ...withParent,
          repeat: { count: instances.length, canAdd: userControlled, canRemove: userControlled },
        });
        instances.forEach((inst, k) => {
          const iref = concreteRef(inst, this.def);
          out.push({
            ref: iref,
            kind: 'repeat-instance',
            dataType: '',
            label: this.text(c.label, this.lang, this.model.context(inst)) ?? '',
            relevant: relevant && this.model.isRelevant(inst),
            required: false,
            readonly: this.model.isReadonly(inst),
            value: '',
            depth: depth + 1,
            parentRef: ref,
            repeat: {
              count: instances.length,
              position: k + 1,
              canAdd: userControlled,
              canRemove: userControlled,
            },
          });
          this.walk(c.children, inst, depth + 2, iref, relevant && this.model.isRelevant(inst), out);
        });
        return;
      }
      const node = this.model.nodesFor(c.path, context)[0];
      if (node === undefined) return;
      const ctx = this.model.context(node);
      const bind = this.def.bindsByPath.get(c.path);
      const el = node instanceof InstanceAttribute ? node.owner : node;
      const markdown = this.text(c.label, this.lang, ctx, 'markdown');
      const hint = this.text(c.hint, this.lang, ctx);
      const constraintMessage =
        bind?.constraintMsg === undefined ? undefined : this.text(bind.constraintMsg, this.lang, ctx);
      out.push({
        ref: concreteRef(node, this.def),
        kind: c.kind,
        dataType: dataTypeOf(c.kind, bind?.type),
        label: this.text(c.label, this.lang, ctx) ?? '',
        ...optional('labelMarkdown', markdown),
        ...optional('hint', hint),
        ...optional('appearance', c.appearance),
        ...(c.kind === 'select' || c.kind === 'select1' ? { choices: this.choices(c, node) } : {}),
        relevant: parentRelevant && this.model.isRelevant(node),
        required: el.required,
        readonly: this.model.isReadonly(node),
        ...optional('constraintMessage', constraintMessage),
        value: node.storedValue,
        depth,
        ...withParent,
        ...optional('mediatype', c.mediatype),
      });
    });
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** JS prints integral numbers without `.0` and others readably, as JavaRosa's answer text. */
function numberText(n: number): string {
  return String(n);
}

function dataTypeOf(kind: string, bindType: string | undefined): string {
  if ((kind === 'select' || kind === 'select1') && (bindType === undefined || bindType === 'string'))
    return kind;
  return bindType ?? 'string';
}

/** Question controls (not groups/repeats) by generic path. */
function questionControls(body: readonly ControlDef[]): Map<string, QuestionControlDef> {
  const out = new Map<string, QuestionControlDef>();
  const visit = (cs: readonly ControlDef[]): void => {
    for (const c of cs) {
      if (c.kind === 'group' || c.kind === 'repeat') visit(c.children);
      else if (c.kind !== 'trigger') out.set(c.path, c);
    }
  };
  visit(body);
  return out;
}

/** `/data/rep[2]/q`: positions written for repeat instances only. */
export function concreteRef(node: XPathNode, def: FormDef): string {
  if (node instanceof InstanceAttribute) return `${concreteRef(node.owner, def)}/@${node.name}`;
  const parts: string[] = [];
  for (let n: InstanceNode | null = node; n && n.kind === 'element'; n = n.parent) {
    let step = n.name;
    if (n.parent && def.repeats.has(genericPath(n))) {
      let pos = 0;
      for (const c of n.parent.children) {
        if (c.name === n.name) pos++;
        if (c === n) break;
      }
      step = `${n.name}[${pos}]`;
    }
    parts.push(step);
  }
  return `/${parts.reverse().join('/')}`;
}

function makeEnv(
  def: FormDef,
  opts: FormSessionOptions,
  doc: InstanceNode,
  functions: ReadonlyMap<string, XPathFunction>,
): XPathEnvironment {
  const map = new Map<string, InstanceNode>();
  for (const decl of def.secondaryInstances) {
    // An instance written into the form is used as is (JavaRosa reads inline instances at
    // parse time); the host supplies only those with a `src`.
    const doc =
      decl.inline !== undefined && decl.src === '' ? decl.inline : opts.instances(decl.src, decl.id);
    if (doc === undefined)
      throw new XFormError(
        'instance-missing',
        `${def.file === undefined ? '' : `${def.file}: `}the form needs instance "${decl.id}" (${decl.src}), which is not available`,
        {
          ...(def.file === undefined ? {} : { file: def.file }),
          ref: decl.src === '' ? decl.id : decl.src,
        },
      );
    map.set(decl.id, doc);
  }
  return {
    instance: (id) => map.get(id),
    root: doc,
    functions,
    now: opts.env?.now ?? (() => new Date()),
    random: opts.env?.random ?? Math.random,
    uuid: opts.env?.uuid ?? uuidv4,
  };
}

function toSnapshot(n: InstanceNode): SnapshotNode {
  const s: SnapshotNode = { n: n.name };
  if (n.namespace !== '') s.ns = n.namespace;
  if (n.prefix !== '') s.p = n.prefix;
  if (n.attributes.length > 0) s.a = n.attributes.map((a) => [a.name, a.storedValue, a.namespace, a.prefix]);
  if (n.nsDecls !== undefined) s.d = n.nsDecls;
  if (n.children.length > 0) s.c = n.children.map(toSnapshot);
  else if (n.storedValue !== '') s.v = n.storedValue;
  return s;
}

function fromSnapshot(s: SnapshotNode): InstanceNode {
  const n = new InstanceNode('element', s.n, s.ns ?? '', s.p ?? '');
  for (const [name, value, ns, p] of s.a ?? []) n.setAttribute(name, value, ns, p);
  if (s.d !== undefined) n.nsDecls = { ...s.d };
  for (const c of s.c ?? []) n.appendChild(fromSnapshot(c));
  n.value = s.v ?? '';
  return n;
}
