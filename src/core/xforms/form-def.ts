import type { InstanceNode } from './tree/instance-node.ts';
import type { CompiledXPath } from './xpath/xpath-types.ts';

/**
 * A parsed XForm: plain, immutable after `parseXForm`, and shared by every session that
 * runs it (the QA runner parses a form once and runs it a thousand times). Paths are
 * *generic*: absolute, local names only, no positions (`/data/rep/q`, `/data/case/@case_id`),
 * the way JavaRosa's TreeReference.genericize names a node for its dependency index.
 */
export interface FormDef {
  file: string | undefined;
  title: string;
  /** Root element of the primary instance (`data`). */
  rootName: string;
  /** The root's namespace: HQ's `http://openrosa.org/formdesigner/...` xmlns. */
  xmlns: string;
  /** The root's `name` attribute (HQ's form name), or the title. */
  name: string;
  /**
   * The primary instance as declared, a document node, with repeat templates taken out
   * (JavaRosa removes `jr:template` nodes from the instance and keeps them aside).
   */
  instance: InstanceNode;
  /** Generic repeat path -> template element (cloned for each new repeat instance). */
  repeatTemplates: ReadonlyMap<string, InstanceNode>;
  /**
   * Generic repeat path -> names of the siblings declared before it, so a first instance
   * is inserted where the template stood.
   */
  repeatPreceding: ReadonlyMap<string, ReadonlySet<string>>;
  secondaryInstances: readonly SecondaryInstanceDecl[];
  binds: readonly BindDef[];
  /** Generic path -> the bind declared for it (the last one wins, as in JavaRosa). */
  bindsByPath: ReadonlyMap<string, BindDef>;
  setvalues: readonly SetvalueDef[];
  itext: Itext;
  body: readonly ControlDef[];
  /** Generic repeat path -> its body definition. */
  repeats: ReadonlyMap<string, RepeatControlDef>;
  /** Every triggerable in dependency (topological) order. */
  triggerables: readonly Triggerable[];
  /** Things tolerated while parsing (a bind for a node the instance does not have...). */
  warnings: readonly string[];
}

export interface SecondaryInstanceDecl {
  id: string;
  src: string;
  /** Content written inside the `<instance id>` itself (no `src`), as a document node. */
  inline: InstanceNode | undefined;
}

export interface BindDef {
  path: string;
  id: string | undefined;
  /** Type without its prefix (`int`, `string`, `date`, `geopoint`); `string` when none. */
  type: string;
  relevant: CompiledXPath | undefined;
  required: CompiledXPath | undefined;
  readonly: CompiledXPath | undefined;
  constraint: CompiledXPath | undefined;
  calculate: CompiledXPath | undefined;
  constraintMsg: TextDef | undefined;
  requiredMsg: TextDef | undefined;
  preload: string | undefined;
  preloadParams: string | undefined;
  /**
   * The nodeset as written when it has predicates (`item[@type='x']`): the bind applies
   * only to the nodes it selects, not to every node of the generic path.
   */
  filter: CompiledXPath | undefined;
}

export type SetvalueEvent = 'xforms-ready' | 'jr-insert' | 'xforms-revalidate' | 'xforms-value-changed';

export interface SetvalueDef {
  event: SetvalueEvent;
  /** Generic target path. */
  path: string;
  /** Expression for the value; undefined means the literal `text`. */
  value: CompiledXPath | undefined;
  text: string;
  /** For `xforms-value-changed` in the body: the control whose change fires it. */
  sourcePath?: string;
}

/** A label, hint or message: an itext id (static or computed) or inline text. */
export interface TextDef {
  itextId?: string;
  /** `jr:itext(expr)` with a computed id (itemset labels). */
  itextExpr?: CompiledXPath;
  parts?: TextPart[];
}

export type TextPart = string | { expr: CompiledXPath };

export interface Itext {
  languages: string[];
  defaultLanguage: string | undefined;
  /** lang -> text id -> form (`''` for the plain form, `markdown`, `long`...) -> parts. */
  translations: ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, TextPart[]>>>;
}

export type ControlKind = 'input' | 'select1' | 'select' | 'trigger' | 'upload' | 'secret' | 'range';

interface ControlBase {
  /** Generic absolute path, or undefined for a group without a ref. */
  path: string | undefined;
  label: TextDef | undefined;
  hint: TextDef | undefined;
  appearance: string | undefined;
  /** Source line, for messages. */
  line: number;
}

export interface QuestionControlDef extends ControlBase {
  kind: ControlKind;
  path: string;
  items: SelectItemDef[];
  itemset: ItemsetDef | undefined;
  mediatype: string | undefined;
}

export interface GroupControlDef extends ControlBase {
  kind: 'group';
  children: ControlDef[];
  fieldList: boolean;
}

export interface RepeatControlDef extends ControlBase {
  kind: 'repeat';
  path: string;
  children: ControlDef[];
  /** `jr:count`: the number of instances, evaluated with the repeat's parent as context. */
  count: CompiledXPath | undefined;
  noAddRemove: boolean;
}

export type ControlDef = QuestionControlDef | GroupControlDef | RepeatControlDef;

export interface SelectItemDef {
  value: string;
  label: TextDef | undefined;
}

export interface ItemsetDef {
  nodeset: CompiledXPath;
  label: TextDef | undefined;
  /** Relative to each item node. */
  value: CompiledXPath;
}

export type TriggerableKind = 'calculate' | 'relevant' | 'required' | 'readonly' | 'count';

/**
 * One computed fact about the form, JavaRosa's Triggerable (commcare-core
 * `org.javarosa.core.model.condition.Triggerable`): an expression evaluated for every node
 * matching `contextPath`, writing to `targetPath` (the same node for binds, the repeat for
 * `jr:count`). `refs` are the generic paths it reads in the primary instance.
 */
export interface Triggerable {
  index: number;
  kind: TriggerableKind;
  expr: CompiledXPath;
  contextPath: string;
  targetPath: string;
  /** Relevance and read-only apply to the whole subtree, so their targets cover it. */
  cascades: boolean;
  refs: readonly DepRef[];
  /** The bind's type (for calculate results). */
  type: string;
  /** The bind's nodeset when it has predicates; only the nodes it selects are evaluated. */
  filter: CompiledXPath | undefined;
}

/** A path an expression reads; `prefix` when it reads anything below it (`*`, `//`). */
export interface DepRef {
  path: string;
  prefix: boolean;
}
