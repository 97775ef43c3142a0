import { XFormError, type XFormErrorCode } from '../../errors/xform-error.ts';
import type { FormDef, SetvalueDef, Triggerable } from '../form-def.ts';
import { isTemplateNode } from '../parse/parse-xform.ts';
import { InstanceAttribute, type InstanceNode, type XPathNode } from '../tree/instance-node.ts';
import { mayChangeUnprompted } from '../xpath/compile-xpath.ts';
import type { CompiledXPath, XPathEnvironment, XPathEvalContext, XPathValue } from '../xpath/xpath-types.ts';
import { toXPathString } from '../xpath/xpath-values.ts';
import { computeEdges, touches } from './build-dag.ts';
import { splitPath } from './generic-path.ts';

/** Per-FormDef lookups shared by every session (the def is immutable). */
interface DagIndex {
  edges: number[][];
  affected: Map<string, Triggerable[]>;
  /** Per path: the indexes of the triggerables reading it directly. */
  direct: Map<string, ReadonlySet<number>>;
  /** Triggerables run whenever they are downstream of a change, changed inputs or not. */
  always: ReadonlySet<number>;
}

const indexes = new WeakMap<FormDef, DagIndex>();

function dagIndex(def: FormDef): DagIndex {
  let ix = indexes.get(def);
  if (ix === undefined) {
    const always = new Set<number>();
    for (const t of def.triggerables)
      if (t.kind === 'count' || t.filter !== undefined || mayChangeUnprompted(t.expr)) always.add(t.index);
    ix = { edges: computeEdges(def.triggerables), affected: new Map(), direct: new Map(), always };
    indexes.set(def, ix);
  }
  return ix;
}

/** Bounds the instances a chain of `jr:count`s may create in one step (a runaway count). */
const MAX_COUNT_STEPS = 100_000;

interface PendingCount {
  parent: InstanceNode;
  path: string;
  n: number;
}

/**
 * The live model of one form session: the primary instance and its computed state, kept
 * up to date as JavaRosa's FormDef/TriggerableDag do (commcare-core
 * `org.javarosa.core.model.TriggerableDag`): a full pass over every triggerable in
 * dependency order at load, then, on each change, only the triggerables downstream of the
 * changed node, evaluated for the nodes in the same repeat instance as the change
 * (JavaRosa contextualizes the affected triggerables' references against the changed ref).
 */
export class FormModel {
  readonly def: FormDef;
  readonly doc: InstanceNode;
  readonly env: XPathEnvironment;
  private readonly pendingCounts: PendingCount[] = [];
  private settling = false;

  constructor(def: FormDef, doc: InstanceNode, env: XPathEnvironment) {
    this.def = def;
    this.doc = doc;
    this.env = env;
  }

  get root(): InstanceNode {
    const r = this.doc.children[0];
    if (r === undefined) throw new XFormError('form-invalid', 'the instance has no root element');
    return r;
  }

  context(node: XPathNode): XPathEvalContext {
    return { node, position: 1, size: 1, env: this.env, current: node };
  }

  /**
   * Un-anchored `nodesFor` results by path, valid until the tree's shape changes (a repeat
   * instance added or removed: `structureChanged`). `single` is set when every step matched
   * at most one node, so no repeat instance can narrow the result for an anchor.
   */
  private readonly nodeCache = new Map<string, { nodes: XPathNode[]; single: boolean }>();

  /** Drops cached node lookups: call after adding or removing nodes of the instance. */
  structureChanged(): void {
    this.nodeCache.clear();
  }

  /** Every node matching a generic path; within the anchor's repeat instances when given. */
  nodesFor(path: string, anchor?: XPathNode): XPathNode[] {
    const hit = this.nodeCache.get(path);
    if (hit !== undefined && (anchor === undefined || hit.single)) return hit.nodes;
    if (anchor !== undefined) return this.walkPath(path, anchor);
    let single = true;
    const nodes = this.walkPath(path, undefined, () => {
      single = false;
    });
    this.nodeCache.set(path, { nodes, single });
    return nodes;
  }

  private walkPath(path: string, anchor: XPathNode | undefined, onSeveral?: () => void): XPathNode[] {
    const steps = stepsOf(path);
    const chain = anchor === undefined ? undefined : ancestry(anchor);
    let cur: InstanceNode[] = [this.doc];
    let follow = chain !== undefined;
    for (let d = 0; d < steps.length; d++) {
      const s = steps[d] as string;
      if (s.startsWith('@')) {
        const name = s.slice(1);
        const out: XPathNode[] = [];
        for (const n of cur) for (const a of n.attributes) if (a.name === name) out.push(a);
        if (out.length > 1) onSeveral?.();
        return d === steps.length - 1 ? out : [];
      }
      const a = follow && chain ? chain[d] : undefined;
      if (a !== undefined && a.name === s && cur.length === 1 && a.parent === cur[0]) {
        cur = [a];
        continue;
      }
      follow = false;
      const next: InstanceNode[] = [];
      for (const n of cur) for (const c of n.children) if (c.name === s) next.push(c);
      if (next.length > 1) onSeveral?.();
      cur = next;
      if (cur.length === 0) break;
    }
    return cur;
  }

  /** Inherited relevance: a node under a non-relevant group is not relevant (JavaRosa TreeElement.isRelevant). */
  isRelevant(node: XPathNode): boolean {
    for (
      let n: InstanceNode | null = node instanceof InstanceAttribute ? node.owner : node;
      n;
      n = n.parent
    ) {
      if (!n.selfRelevant) return false;
    }
    return true;
  }

  isReadonly(node: XPathNode): boolean {
    for (
      let n: InstanceNode | null = node instanceof InstanceAttribute ? node.owner : node;
      n;
      n = n.parent
    ) {
      if (n.selfReadonly) return true;
    }
    return false;
  }

  /**
   * Runs every triggerable for every node, until repeat counts settle. `conditionsOnly`
   * (used on resume) keeps the stored values: re-running `uuid()` calculates would give a
   * resumed form new case ids.
   */
  recomputeAll(conditionsOnly = false): void {
    for (const t of this.def.triggerables) {
      if (conditionsOnly && (t.kind === 'calculate' || t.kind === 'count')) continue;
      this.evaluate(t, undefined);
    }
    this.settleCounts();
  }

  /**
   * After a repeat instance was added or removed (JavaRosa FormDef.createNewRepeat /
   * deleteRepeat): the new instance's own triggerables run for it alone, and everything
   * reading the repeat's nodes (`count(/data/rep)`, `sum(/data/rep/x)`) runs again, so
   * constant calculates elsewhere (`uuid()`) keep their values.
   */
  recomputeRepeat(repeatPath: string, added: InstanceNode | undefined): void {
    const list = this.def.triggerables;
    const ix = dagIndex(this.def);
    const anchored = new Set<number>();
    const seen = new Set<number>();
    const stack: number[] = [];
    for (const t of list) {
      const inside = added !== undefined && t.contextPath.startsWith(`${repeatPath}/`);
      const reads = t.refs.some((r) => r.path === repeatPath || r.path.startsWith(`${repeatPath}/`));
      if (inside) anchored.add(t.index);
      if (inside || reads) {
        seen.add(t.index);
        stack.push(t.index);
      }
    }
    while (stack.length > 0) {
      const i = stack.pop() as number;
      for (const j of ix.edges[i] ?? [])
        if (!seen.has(j)) {
          seen.add(j);
          stack.push(j);
        }
    }
    for (const i of [...seen].sort((a, b) => a - b)) {
      const t = list[i] as Triggerable;
      this.evaluate(t, anchored.has(i) ? added : undefined);
    }
    this.settleCounts();
  }

  /**
   * Recomputes what depends on `node`, which has just changed. When a `jr:count` adds or
   * removes repeat instances the whole form is recomputed, as new instances need every
   * triggerable evaluated once.
   */
  recomputeFrom(node: XPathNode): void {
    const path = genericPath(node);
    const list = this.affected(path);
    const ix = dagIndex(this.def);
    // Only what reads the changed node, and then what reads a result that changed, runs:
    // a triggerable whose inputs all kept their values would compute the same result
    // (JavaRosa re-evaluates the whole downstream set; the values come out the same).
    const dirty = new Set<number>(this.directReaders(path));
    for (const t of list) {
      if (!dirty.has(t.index) && !ix.always.has(t.index)) continue;
      if (this.evaluate(t, node)) for (const j of ix.edges[t.index] ?? []) dirty.add(j);
    }
    this.settleCounts();
  }

  private directReaders(path: string): ReadonlySet<number> {
    const ix = dagIndex(this.def);
    let d = ix.direct.get(path);
    if (d === undefined) {
      const set = new Set<number>();
      for (const t of this.def.triggerables)
        if (t.refs.some((r) => touches(path, false, r))) set.add(t.index);
      d = set;
      ix.direct.set(path, d);
    }
    return d;
  }

  /**
   * Applies `jr:count` changes found by the last pass, one repeat instance at a time, after
   * the pass has finished: JavaRosa creates counted instances lazily as the user reaches
   * them, when every other value is up to date, and a `jr-insert` setvalue may read them.
   */
  private settleCounts(): void {
    if (this.settling) return;
    this.settling = true;
    try {
      for (let guard = 0; this.pendingCounts.length > 0 && guard < MAX_COUNT_STEPS; guard++) {
        const p = this.pendingCounts.shift() as PendingCount;
        if (p.parent.parent === null && p.parent !== this.root) continue;
        this.setRepeatCount(p.parent, p.path, p.n);
      }
    } finally {
      this.settling = false;
      this.pendingCounts.length = 0;
    }
  }

  /** Triggerables downstream of a change to `path`, in dependency order. */
  affected(path: string): Triggerable[] {
    const ix = dagIndex(this.def);
    const cached = ix.affected.get(path);
    if (cached !== undefined) return cached;
    const list = this.def.triggerables;
    const seen = new Set<number>();
    const stack: number[] = [];
    for (const t of list)
      if (t.refs.some((r) => touches(path, false, r))) {
        seen.add(t.index);
        stack.push(t.index);
      }
    while (stack.length > 0) {
      const i = stack.pop() as number;
      for (const j of ix.edges[i] ?? [])
        if (!seen.has(j)) {
          seen.add(j);
          stack.push(j);
        }
    }
    const out = [...seen].sort((a, b) => a - b).map((i) => list[i] as Triggerable);
    ix.affected.set(path, out);
    return out;
  }

  /**
   * Evaluates one triggerable for its nodes (those in `anchor`'s repeat instances when
   * given); true when a value or state it sets changed (a count always counts as changed).
   */
  private evaluate(t: Triggerable, anchor: XPathNode | undefined): boolean {
    let nodes = this.nodesFor(t.contextPath, anchor);
    if (t.filter !== undefined && nodes.length > 0) {
      // JavaRosa binds a nodeset with predicates to the nodes it selects only.
      const filter = t.filter;
      const selected = new Set(
        guard(() => filter.evaluateNodes(this.context(this.root)), filter, t.targetPath),
      );
      nodes = nodes.filter((n) => selected.has(n));
    }
    if (nodes.length === 0) return false;
    let changed = false;
    // One context moved from node to node and one try per triggerable, not a context and a
    // closure per node: full passes on large forms evaluate thousands of these.
    const ctx = this.context(nodes[0] as XPathNode);
    const expr = t.expr;
    try {
      for (const node of nodes) {
        ctx.node = node;
        ctx.current = node;
        const el = node instanceof InstanceAttribute ? node.owner : node;
        switch (t.kind) {
          case 'calculate':
            if (setRaw(node, wrapValue(expr.evaluate(ctx), t.type))) changed = true;
            break;
          case 'relevant': {
            const v = expr.evaluateBoolean(ctx);
            if (v !== el.selfRelevant) changed = true;
            el.selfRelevant = v;
            break;
          }
          case 'required': {
            const v = expr.evaluateBoolean(ctx);
            if (v !== el.required) changed = true;
            el.required = v;
            break;
          }
          case 'readonly': {
            const v = expr.evaluateBoolean(ctx);
            if (v !== el.selfReadonly) changed = true;
            el.selfReadonly = v;
            break;
          }
          case 'count': {
            changed = true;
            const n = expr.evaluateNumber(ctx);
            this.pendingCounts.push({
              parent: el,
              path: t.targetPath,
              n: Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0,
            });
            break;
          }
        }
      }
    } catch (e) {
      throw evaluationError(e, expr, t.targetPath);
    }
    return changed;
  }

  /** Grows (keeping answered instances) or shrinks a `jr:count` repeat under `parent`. */
  private setRepeatCount(parent: InstanceNode, repeatPath: string, n: number): void {
    const name = repeatPath.slice(repeatPath.lastIndexOf('/') + 1);
    const existing = parent.children.filter((c) => c.name === name);
    if (existing.length === n) return;
    for (let i = existing.length; i < n; i++) this.addRepeatInstance(parent, repeatPath);
    if (existing.length > n) {
      for (let i = existing.length - 1; i >= n; i--) {
        const e = existing[i] as InstanceNode;
        parent.children.splice(parent.children.indexOf(e), 1);
        e.parent = null;
        this.structureChanged();
      }
      this.recomputeRepeat(repeatPath, undefined);
    }
  }

  /**
   * Adds a repeat instance as JavaRosa's FormDef.createNewRepeat does: the template copied
   * after the last instance (or where the template stood), its `jr-insert` setvalues fired
   * first (a setvalue reading `count(/data/rep)` still sees the count before the insert;
   * commcare-core's test_repeat_insert_duplicate_triggering.xml relies on it), then the
   * triggerables of the new instance and those reading the repeat recomputed.
   */
  addRepeatInstance(parent: InstanceNode, repeatPath: string): InstanceNode {
    const node = this.insertRepeat(parent, repeatPath);
    for (const sv of this.def.setvalues)
      if (sv.event === 'jr-insert' && sv.path.startsWith(`${repeatPath}/`)) this.runSetvalue(sv, node, true);
    this.recomputeRepeat(repeatPath, node);
    return node;
  }

  /** Inserts a copy of the repeat's template; no recompute. */
  private insertRepeat(parent: InstanceNode, repeatPath: string): InstanceNode {
    const template = this.def.repeatTemplates.get(repeatPath);
    if (template === undefined)
      throw new XFormError('form-invalid', `the repeat ${repeatPath} has no template in the instance`, {
        ...(this.def.file === undefined ? {} : { file: this.def.file }),
        ref: repeatPath,
      });
    const node = instantiate(template);
    const name = node.name;
    let at = -1;
    for (let i = parent.children.length - 1; i >= 0; i--)
      if (parent.children[i]?.name === name) {
        at = i + 1;
        break;
      }
    if (at < 0) {
      const before = this.def.repeatPreceding.get(repeatPath);
      at = 0;
      for (let i = parent.children.length - 1; i >= 0; i--)
        if (before?.has(parent.children[i]?.name ?? '')) {
          at = i + 1;
          break;
        }
    }
    node.parent = parent;
    parent.children.splice(at, 0, node);
    this.structureChanged();
    return node;
  }

  /** Writes a setvalue's result to its targets (within `anchor`'s repeat instance when given). */
  runSetvalue(sv: SetvalueDef, anchor: XPathNode | undefined, recompute: boolean): void {
    const targets = this.nodesFor(sv.path, anchor);
    for (const target of targets) {
      const type = this.def.bindsByPath.get(sv.path)?.type ?? 'string';
      const v =
        sv.value === undefined ? sv.text : calculatedValue(sv.value, type, this.context(target), sv.path);
      if (setRaw(target, v) && recompute) this.recomputeFrom(target);
    }
  }

  /** Sets a value and recomputes what depends on it; returns false when unchanged. */
  setValue(node: XPathNode, value: string): boolean {
    if (!setRaw(node, value)) return false;
    this.recomputeFrom(node);
    return true;
  }
}

function setRaw(node: XPathNode, value: string): boolean {
  if (node.storedValue === value) return false;
  node.storedValue = value;
  return true;
}

function guard<T>(f: () => T, expr: CompiledXPath, ref: string): T {
  try {
    return f();
  } catch (e) {
    throw evaluationError(e, expr, ref);
  }
}

/** An evaluation failure, naming the bind's ref (kept when the error already names one). */
function evaluationError(e: unknown, expr: CompiledXPath, ref: string): XFormError {
  if (e instanceof XFormError) {
    if (e.ref !== undefined) return e;
    return new XFormError(e.code as XFormErrorCode, `${ref}: ${e.message}`, {
      ref,
      expression: expr.source,
      cause: e,
    });
  }
  return new XFormError('xpath-eval', `${ref}: evaluating "${expr.source}" failed: ${String(e)}`, {
    ref,
    expression: expr.source,
    cause: e,
  });
}

/**
 * A calculate's (or setvalue's) result as the phone stores it (commcare-core
 * `Recalculate.wrapData`): an empty string or NaN stores nothing; a boolean (or any value
 * for a `boolean` bind) becomes `1`/`0`, as JavaRosa's BooleanData is written; a number is
 * truncated for an `int` bind and written without `.0` when integral; strings and dates
 * keep their XPath string value.
 */
export function calculatedValue(
  expr: CompiledXPath,
  type: string,
  ctx: XPathEvalContext,
  ref: string,
): string {
  return guard(() => wrapValue(expr.evaluate(ctx), type), expr, ref);
}

function wrapValue(v: XPathValue, type: string): string {
  if (Array.isArray(v)) {
    const first = v[0];
    return first === undefined
      ? ''
      : wrapValue(
          first.kind === 'attribute' || first.children.length === 0 ? first.value : first.stringValue(),
          type,
        );
  }
  if (typeof v === 'string') {
    if (v === '') return '';
    return type === 'boolean' ? '1' : v;
  }
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '';
    if (type === 'boolean') return Math.abs(v) > 1e-12 ? '1' : '0';
    if (type === 'int' || type === 'integer' || type === 'long') return String(Math.trunc(v));
    const l = Math.trunc(v);
    if (Math.abs(v - l) < 1e-9) return String(l);
    return toXPathString(v);
  }
  return toXPathString(v);
}

const stepCache = new Map<string, string[]>();

/** Split paths, cached: every evaluation resolves its triggerable's context path. */
function stepsOf(path: string): string[] {
  let s = stepCache.get(path);
  if (s === undefined) {
    s = splitPath(path);
    if (stepCache.size > 50_000) stepCache.clear();
    stepCache.set(path, s);
  }
  return s;
}

/** Generic path of a concrete node: `/data/rep/q`, `/data/case/@case_id`. */
export function genericPath(node: XPathNode): string {
  if (node instanceof InstanceAttribute) return `${genericPath(node.owner)}/@${node.name}`;
  const names: string[] = [];
  for (let n: InstanceNode | null = node; n && n.kind === 'element'; n = n.parent) names.push(n.name);
  return `/${names.reverse().join('/')}`;
}

/** Elements from the root element down to the node (or the attribute's owner). */
function ancestry(node: XPathNode): InstanceNode[] {
  const chain: InstanceNode[] = [];
  for (
    let n: InstanceNode | null = node instanceof InstanceAttribute ? node.owner : node;
    n && n.kind === 'element';
    n = n.parent
  )
    chain.push(n);
  return chain.reverse();
}

/** A new repeat instance: the template copied, nested templates left out. */
export function instantiate(template: InstanceNode): InstanceNode {
  const n = template.clone();
  const prune = (e: InstanceNode): void => {
    e.children = e.children.filter((c) => !isTemplateNode(c));
    for (const c of e.children) prune(c);
  };
  prune(n);
  return n;
}
