import { XFormError } from '../../errors/xform-error.ts';
import type { InstanceNode, XPathNode } from '../tree/instance-node.ts';
import { sortDocumentOrder } from './document-order.ts';
import type { Axis, BinaryExpr, NodeTest, PathExpr, Step, XPathExpr } from './xpath-ast.ts';
import { BUILTIN_FUNCTIONS } from './xpath-functions.ts';
import type { XPathCallee, XPathEvalContext, XPathValue } from './xpath-types.ts';
import { isXPathDate, nodeValue, toXPathBoolean, toXPathNumber, toXPathString } from './xpath-values.ts';

/**
 * Evaluates a parsed expression over `InstanceNode` trees. Node-sets are arrays in
 * document order without duplicates; the common single-context child steps produce them
 * in order directly, so only the axes that can reorder or repeat nodes pay for a sort.
 */

export function evalError(source: string, message: string, cause?: unknown): XFormError {
  return new XFormError('xpath-eval', `${message} in XPath "${source}"`, {
    expression: source,
    cause,
  });
}

export class Evaluator implements XPathCallee {
  readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  evaluate(e: XPathExpr, ctx: XPathEvalContext): XPathValue {
    switch (e.type) {
      case 'number':
      case 'string':
        return e.value;
      case 'variable': {
        const v = ctx.variables?.get(e.name);
        if (v === undefined) throw evalError(this.source, `Unknown variable $${e.name}`);
        return v;
      }
      case 'negate':
        return -toXPathNumber(this.evaluate(e.operand, ctx));
      case 'binary':
        return this.binary(e, ctx);
      case 'call':
        return this.call(e.name, e.args, ctx);
      case 'filter': {
        const base = this.nodes(this.evaluate(e.base, ctx), 'filter expression');
        let nodes = base;
        for (const p of e.predicates) nodes = this.filter(nodes, p, ctx, false);
        return nodes;
      }
      case 'path':
        return this.path(e, ctx);
    }
  }

  nodes(v: XPathValue, what: string): XPathNode[] {
    if (!Array.isArray(v)) {
      throw evalError(
        this.source,
        `The ${what} needs a node-set, not the ${describe(v)} ${JSON.stringify(toXPathString(v))}`,
      );
    }
    return v;
  }

  private binary(e: BinaryExpr, ctx: XPathEvalContext): XPathValue {
    switch (e.op) {
      case 'or':
        return toXPathBoolean(this.evaluate(e.left, ctx)) || toXPathBoolean(this.evaluate(e.right, ctx));
      case 'and':
        return toXPathBoolean(this.evaluate(e.left, ctx)) && toXPathBoolean(this.evaluate(e.right, ctx));
      case '=':
        return equals(this.evaluate(e.left, ctx), this.evaluate(e.right, ctx), false);
      case '!=':
        return equals(this.evaluate(e.left, ctx), this.evaluate(e.right, ctx), true);
      case '<':
      case '<=':
      case '>':
      case '>=':
        return relational(this.evaluate(e.left, ctx), this.evaluate(e.right, ctx), e.op);
      case '+':
        return toXPathNumber(this.evaluate(e.left, ctx)) + toXPathNumber(this.evaluate(e.right, ctx));
      case '-':
        return toXPathNumber(this.evaluate(e.left, ctx)) - toXPathNumber(this.evaluate(e.right, ctx));
      case '*':
        return toXPathNumber(this.evaluate(e.left, ctx)) * toXPathNumber(this.evaluate(e.right, ctx));
      case 'div':
        return toXPathNumber(this.evaluate(e.left, ctx)) / toXPathNumber(this.evaluate(e.right, ctx));
      case 'mod':
        // JS `%` keeps the dividend's sign, as Java's and XPath's mod do.
        return toXPathNumber(this.evaluate(e.left, ctx)) % toXPathNumber(this.evaluate(e.right, ctx));
      case '|': {
        const a = this.nodes(this.evaluate(e.left, ctx), 'union "|"');
        const b = this.nodes(this.evaluate(e.right, ctx), 'union "|"');
        return sortDocumentOrder(a.concat(b));
      }
    }
  }

  private call(name: string, args: readonly XPathExpr[], ctx: XPathEvalContext): XPathValue {
    const custom = ctx.env.functions?.get(name);
    if (custom !== undefined) {
      const values = args.map((a) => this.evaluate(a, ctx));
      return custom(values, ctx);
    }
    const builtin = BUILTIN_FUNCTIONS.get(name);
    if (builtin === undefined) {
      throw new XFormError('xpath-unsupported', `Unsupported XPath function ${name}() in "${this.source}"`, {
        expression: this.source,
      });
    }
    try {
      if (builtin.lazy !== undefined) return builtin.lazy(args, ctx, this);
      const values: XPathValue[] = new Array(args.length);
      for (let i = 0; i < args.length; i++) values[i] = this.evaluate(args[i] as XPathExpr, ctx);
      return builtin.eager?.(values, ctx, this) ?? '';
    } catch (err) {
      if (err instanceof XFormError) throw err;
      throw evalError(this.source, `${name}(): ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }

  private path(p: PathExpr, ctx: XPathEvalContext): XPathNode[] {
    const steps = p.steps;
    let nodes: XPathNode[];
    // `flat`: in document order, no duplicates, and no node inside another, so a child or
    // attribute step keeps the order without a sort.
    let flat: boolean;
    let firstStep = 0;
    if (p.base !== null) {
      nodes = this.nodes(this.evaluate(p.base, ctx), 'path');
      flat = nodes.length <= 1;
    } else if (p.absolute) {
      const anchor = ctx.current ?? ctx.node;
      const root = topOf(ctx.env.root ?? anchor);
      const names = simplePathNames(p);
      // JavaRosa contextualizes absolute paths against the context node (TreeReference
      // .contextualize): leading steps that name the context's own ancestors, without
      // predicates, stay on those ancestors. So inside the second repeat instance,
      // `/data/rep/q` is that instance's q, not every q.
      const chain = contextChain(anchor, root);
      let at: InstanceNode | undefined;
      while (firstStep < steps.length && firstStep < chain.length) {
        const step = steps[firstStep] as Step;
        const el = chain[firstStep] as InstanceNode;
        if (step.axis !== 'child' || step.test.kind !== 'name' || step.predicates.length > 0) break;
        if (step.test.local !== el.name) break;
        at = el;
        firstStep++;
      }
      if (at !== undefined) {
        if (names !== null) return walkNames(at, names, firstStep);
        nodes = [at];
      } else {
        if (names !== null && root.kind === 'document') return walkNames(root, names, 0);
        nodes = [root];
        // A tree built without a document node: its top element stands for `/*`.
        const first = steps[0];
        if (root.kind === 'element' && first !== undefined && first.axis === 'child') {
          nodes = matches(root, first.test) ? this.predicates([root], first, ctx) : [];
          firstStep = 1;
        }
      }
      flat = true;
    } else {
      // Fast path for the `@name` and `name` steps predicates and binds are full of.
      const only = steps[0];
      if (
        steps.length === 1 &&
        only !== undefined &&
        only.predicates.length === 0 &&
        only.test.kind === 'name'
      ) {
        const n = ctx.node;
        if (n.kind === 'attribute') return [];
        const local = only.test.local;
        if (only.axis === 'attribute') {
          for (const a of n.attributes) if (a.name === local) return [a];
          return [];
        }
        if (only.axis === 'child') {
          const out: XPathNode[] = [];
          for (const c of n.children) if (c.name === local) out.push(c);
          return out;
        }
      }
      nodes = [ctx.node];
      flat = true;
    }
    for (let s = firstStep; s < steps.length; s++) {
      const step = steps[s] as Step;
      const single = nodes.length === 1;
      const out: XPathNode[] = [];
      for (const n of nodes) {
        if (step.predicates.length === 0) {
          collectAxis(step.axis, step.test, n, out);
        } else {
          const seg: XPathNode[] = [];
          collectAxis(step.axis, step.test, n, seg);
          const kept = this.predicates(seg, step, ctx);
          if (REVERSE_AXES.has(step.axis)) kept.reverse();
          for (const k of kept) out.push(k);
        }
      }
      if (step.predicates.length === 0 && REVERSE_AXES.has(step.axis) && single) out.reverse();
      const axis = step.axis;
      if (axis === 'child' || axis === 'attribute' || axis === 'self') {
        if (!flat) nodes = sortDocumentOrder(out);
        else nodes = out;
        // Children of a flat set are flat; `self` keeps the set as it was.
      } else if (single && axis !== 'ancestor' && axis !== 'ancestor-or-self') {
        nodes = out;
        flat = axis === 'parent' || axis === 'following-sibling' || axis === 'preceding-sibling';
      } else if (single) {
        nodes = out;
        flat = false;
      } else {
        nodes = sortDocumentOrder(out);
        flat = false;
      }
    }
    return nodes;
  }

  private predicates(nodes: XPathNode[], step: Step, ctx: XPathEvalContext): XPathNode[] {
    let out = nodes;
    for (const p of step.predicates) out = this.filter(out, p, ctx, REVERSE_AXES.has(step.axis));
    return out;
  }

  /**
   * Keeps the nodes a predicate accepts. `nodes` is in axis order (reverse document order
   * for reverse axes), which is what `position()` counts in.
   */
  filter(nodes: XPathNode[], pred: XPathExpr, ctx: XPathEvalContext, _reverse: boolean): XPathNode[] {
    const size = nodes.length;
    if (pred.type === 'number') {
      const n = nodes[pred.value - 1];
      return n === undefined ? [] : [n];
    }
    const out: XPathNode[] = [];
    // One context object per filter, moved from node to node: evaluation is synchronous
    // and nothing keeps a context, so this saves an allocation per node.
    const sub: XPathEvalContext = {
      node: ctx.node,
      position: 0,
      size,
      env: ctx.env,
      current: ctx.current ?? ctx.node,
    };
    if (ctx.variables !== undefined) sub.variables = ctx.variables;
    // `[@case_id = X]` where X does not depend on the node: compute X once, not per node.
    if (pred.type === 'binary' && (pred.op === '=' || pred.op === '!=')) {
      const rightFixed = isContextFree(pred.right);
      const leftFixed = !rightFixed && isContextFree(pred.left);
      if (rightFixed || leftFixed) {
        let fixed = this.evaluate(rightFixed ? pred.right : pred.left, ctx);
        if (Array.isArray(fixed) && fixed.length <= 1) fixed = single(fixed);
        const varying = rightFixed ? pred.left : pred.right;
        const neq = pred.op === '!=';
        const attr = singleAttributeName(varying);
        for (let i = 0; i < size; i++) {
          const node = nodes[i] as XPathNode;
          if (attr !== undefined) {
            // `@name`: read the value directly; a missing attribute is '' (empty node-set).
            const v = node.kind === 'attribute' ? '' : (node.getAttribute(attr) ?? '');
            if (equals(v, fixed, neq)) out.push(node);
            continue;
          }
          sub.node = node;
          sub.position = i + 1;
          if (equals(this.evaluate(varying, sub), fixed, neq)) out.push(node);
        }
        return out;
      }
    }
    for (let i = 0; i < size; i++) {
      const node = nodes[i] as XPathNode;
      sub.node = node;
      sub.position = i + 1;
      const v = this.evaluate(pred, sub);
      if (typeof v === 'number' ? v === i + 1 : toXPathBoolean(v)) out.push(node);
    }
    return out;
  }
}

/** `@name` as a whole expression: the attribute name, else undefined. */
function singleAttributeName(e: XPathExpr): string | undefined {
  if (e.type !== 'path' || e.base !== null || e.absolute || e.steps.length !== 1) return undefined;
  const s = e.steps[0] as Step;
  return s.axis === 'attribute' && s.test.kind === 'name' && s.predicates.length === 0
    ? s.test.local
    : undefined;
}

/** Child-only name steps without predicates (`/data/a/b`): the names, walked in a tight loop. */
const simpleNames = new WeakMap<PathExpr, string[] | null>();

function simplePathNames(p: PathExpr): string[] | null {
  let names = simpleNames.get(p);
  if (names === undefined) {
    names = [];
    for (const s of p.steps) {
      if (s.axis !== 'child' || s.test.kind !== 'name' || s.predicates.length > 0) {
        names = null;
        break;
      }
      names.push(s.test.local);
    }
    simpleNames.set(p, names);
  }
  return names;
}

const REVERSE_AXES = new Set<Axis>([
  'parent',
  'ancestor',
  'ancestor-or-self',
  'preceding-sibling',
  'preceding',
]);

function describe(v: XPathValue): string {
  if (isXPathDate(v)) return 'date';
  return typeof v;
}

/**
 * The elements from the document element down to `anchor` (an attribute counts as its
 * owner), or empty when `anchor` is not in the tree under `root`.
 */
function contextChain(anchor: XPathNode, root: InstanceNode): InstanceNode[] {
  // Reused between calls (every absolute path asks for it): the caller reads it before
  // evaluating anything else, so no nested evaluation can overwrite it while in use.
  const chain = chainScratch;
  chain.length = 0;
  let el: InstanceNode | null = anchor.kind === 'attribute' ? anchor.owner : anchor;
  while (el !== null && el.kind === 'element') {
    chain.push(el);
    if (el === root) break;
    el = el.parent;
  }
  const top = chain[chain.length - 1];
  if (top === undefined) return chain;
  if (top === root || top.parent === root) return chain.reverse();
  chain.length = 0;
  return chain;
}

const chainScratch: InstanceNode[] = [];

function walkNames(start: InstanceNode, names: string[], from: number): XPathNode[] {
  let nodes: InstanceNode[] = [start];
  for (let i = from; i < names.length; i++) {
    const name = names[i] as string;
    const next: InstanceNode[] = [];
    for (const n of nodes) for (const c of n.children) if (c.name === name) next.push(c);
    if (next.length === 0) return next;
    nodes = next;
  }
  return nodes;
}

function topOf(n: XPathNode): InstanceNode {
  let el = n.kind === 'attribute' ? n.owner : n;
  while (el.parent !== null) el = el.parent;
  return el;
}

/** Names match on the local part: `orx:instanceID` and `instanceID` are the same step. */
function matches(n: InstanceNode, test: NodeTest): boolean {
  switch (test.kind) {
    case 'name':
      return n.kind === 'element' && n.name === test.local;
    case 'any':
      return n.kind === 'element';
    case 'node':
      return true;
    case 'text':
      // The tree keeps a leaf's text on the element, so `text()` finds leaves with text.
      return n.kind === 'element' && n.children.length === 0 && n.value !== '';
    case 'comment':
    case 'processing-instruction':
      return false;
  }
}

function collectDescendantsReverse(n: InstanceNode, test: NodeTest, out: XPathNode[]): void {
  for (let i = n.children.length - 1; i >= 0; i--) {
    const c = n.children[i] as InstanceNode;
    if (c.children.length > 0) collectDescendantsReverse(c, test, out);
    if (matches(c, test)) out.push(c);
  }
}

/** `following` (document order) or `preceding` (nearest first): no ancestors, no descendants. */
function collectFollowingOrPreceding(
  start: InstanceNode,
  test: NodeTest,
  following: boolean,
  out: XPathNode[],
): void {
  let cur = start;
  while (cur.parent !== null) {
    const sibs = cur.parent.children;
    const at = sibs.indexOf(cur);
    if (following) {
      for (let i = at + 1; i < sibs.length; i++) {
        const s = sibs[i] as InstanceNode;
        if (matches(s, test)) out.push(s);
        collectDescendants(s, test, out);
      }
    } else {
      for (let i = at - 1; i >= 0; i--) {
        const s = sibs[i] as InstanceNode;
        collectDescendantsReverse(s, test, out);
        if (matches(s, test)) out.push(s);
      }
    }
    cur = cur.parent;
  }
}

function collectDescendants(n: InstanceNode, test: NodeTest, out: XPathNode[]): void {
  for (const c of n.children) {
    if (matches(c, test)) out.push(c);
    if (c.children.length > 0) collectDescendants(c, test, out);
  }
}

/** Appends the nodes of `axis` from `n` that pass `test`, in axis order. */
function collectAxis(axis: Axis, test: NodeTest, n: XPathNode, out: XPathNode[]): void {
  if (n.kind === 'attribute') {
    switch (axis) {
      case 'self':
        if (test.kind === 'node' || test.kind === 'any' || (test.kind === 'name' && test.local === n.name))
          out.push(n);
        return;
      case 'parent':
        if (matches(n.owner, test)) out.push(n.owner);
        return;
      case 'ancestor':
      case 'ancestor-or-self': {
        if (axis === 'ancestor-or-self' && (test.kind === 'node' || test.kind === 'any')) out.push(n);
        let p: InstanceNode | null = n.owner;
        while (p !== null) {
          if (matches(p, test)) out.push(p);
          p = p.parent;
        }
        return;
      }
      case 'descendant-or-self':
        if (test.kind === 'node') out.push(n);
        return;
      case 'following':
        // An attribute's following nodes start with its element's descendants.
        collectDescendants(n.owner, test, out);
        collectFollowingOrPreceding(n.owner, test, true, out);
        return;
      case 'preceding':
        collectFollowingOrPreceding(n.owner, test, false, out);
        return;
      default:
        return;
    }
  }
  switch (axis) {
    case 'child':
      if (test.kind === 'text') {
        // No separate text nodes: a leaf's text is the element's own value.
        if (n.kind === 'element' && n.children.length === 0 && n.value !== '') out.push(n);
        return;
      }
      if (test.kind === 'name') {
        const local = test.local;
        for (const c of n.children) if (c.name === local) out.push(c);
      } else {
        for (const c of n.children) if (matches(c, test)) out.push(c);
      }
      return;
    case 'attribute':
      for (const a of n.attributes) {
        if (test.kind === 'any' || test.kind === 'node' || (test.kind === 'name' && a.name === test.local))
          out.push(a);
      }
      return;
    case 'self':
      if (matches(n, test)) out.push(n);
      return;
    case 'parent':
      if (n.parent !== null && matches(n.parent, test)) out.push(n.parent);
      return;
    case 'descendant':
      collectDescendants(n, test, out);
      return;
    case 'descendant-or-self':
      if (matches(n, test)) out.push(n);
      collectDescendants(n, test, out);
      return;
    case 'ancestor':
    case 'ancestor-or-self': {
      if (axis === 'ancestor-or-self' && matches(n, test)) out.push(n);
      let p = n.parent;
      while (p !== null) {
        if (matches(p, test)) out.push(p);
        p = p.parent;
      }
      return;
    }
    case 'following':
    case 'preceding':
      collectFollowingOrPreceding(n, test, axis === 'following', out);
      return;
    case 'following-sibling':
    case 'preceding-sibling': {
      const parent = n.parent;
      if (parent === null) return;
      const sibs = parent.children;
      const at = sibs.indexOf(n);
      if (axis === 'following-sibling') {
        for (let i = at + 1; i < sibs.length; i++)
          if (matches(sibs[i] as InstanceNode, test)) out.push(sibs[i] as InstanceNode);
      } else {
        for (let i = at - 1; i >= 0; i--)
          if (matches(sibs[i] as InstanceNode, test)) out.push(sibs[i] as InstanceNode);
      }
      return;
    }
  }
}

/* ---------- comparisons (XPath 1.0 section 3.4, JavaRosa XPathEqExpr/XPathCmpExpr) ---------- */

/** A node-set of 0 or 1 nodes stands for one value (JavaRosa unpack); larger ones are existential. */
function single(v: XPathValue): XPathValue {
  if (Array.isArray(v)) {
    const first = v[0];
    return first === undefined ? '' : nodeValue(first);
  }
  return v;
}

function scalarEquals(a: XPathValue, b: XPathValue): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean') return toXPathBoolean(a) === toXPathBoolean(b);
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toXPathNumber(a);
    const y = toXPathNumber(b);
    // JavaRosa compares numbers within 1e-12, so `6.1 - 7.8 = -1.7` holds.
    return x === y || Math.abs(x - y) < 1e-12;
  }
  return toXPathString(a) === toXPathString(b);
}

export function equals(a: XPathValue, b: XPathValue, negate: boolean): boolean {
  if (Array.isArray(a) && a.length > 1) {
    if (typeof b === 'boolean') return b !== negate;
    for (const n of a) if (equals(nodeValue(n), b, negate)) return true;
    return false;
  }
  if (Array.isArray(b) && b.length > 1) {
    if (typeof a === 'boolean') return a !== negate;
    for (const n of b) if (equals(a, nodeValue(n), negate)) return true;
    return false;
  }
  return scalarEquals(single(a), single(b)) !== negate;
}

function relational(a: XPathValue, b: XPathValue, op: '<' | '<=' | '>' | '>='): boolean {
  if (Array.isArray(a) && a.length > 1) {
    for (const n of a) if (relational(nodeValue(n), b, op)) return true;
    return false;
  }
  if (Array.isArray(b) && b.length > 1) {
    for (const n of b) if (relational(a, nodeValue(n), op)) return true;
    return false;
  }
  // XPath compares order on numbers only; strings that are not numbers or dates are NaN.
  const x = toXPathNumber(a);
  const y = toXPathNumber(b);
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/* ---------- context independence, for hoisting predicate operands ---------- */

/** Functions whose value changes from node to node or call to call. */
const VOLATILE_FUNCTIONS = new Set(['position', 'last', 'random', 'uuid']);
/** Functions that read the context node when called without arguments. */
const CONTEXT_DEFAULT_FUNCTIONS = new Set([
  'name',
  'local-name',
  'string',
  'string-length',
  'normalize-space',
  'number',
]);

const contextFreeCache = new WeakMap<XPathExpr, boolean>();

/**
 * True when an expression gives the same value for every node of a predicate: no
 * relative path, no position, no clock or randomness, no zero-argument function that
 * reads the context node. Absolute paths qualify: they start at the form's root.
 */
export function isContextFree(e: XPathExpr): boolean {
  const cached = contextFreeCache.get(e);
  if (cached !== undefined) return cached;
  let r: boolean;
  switch (e.type) {
    case 'number':
    case 'string':
    case 'variable':
      r = true;
      break;
    case 'negate':
      r = isContextFree(e.operand);
      break;
    case 'binary':
      r = isContextFree(e.left) && isContextFree(e.right);
      break;
    case 'call':
      r =
        BUILTIN_FUNCTIONS.has(e.name) &&
        !VOLATILE_FUNCTIONS.has(e.name) &&
        !(e.args.length === 0 && CONTEXT_DEFAULT_FUNCTIONS.has(e.name)) &&
        e.args.every(isContextFree);
      break;
    case 'filter':
      r = isContextFree(e.base) && e.predicates.every(predicateContextFree);
      break;
    case 'path':
      r =
        (e.base !== null ? isContextFree(e.base) : e.absolute) &&
        e.steps.every((s) => s.predicates.every(predicateContextFree));
      break;
  }
  contextFreeCache.set(e, r);
  return r;
}

/**
 * A predicate inside a context-free path may read its own context (`case[@id = 'x']`) but
 * must not reach outside it: `current()` is fine, relative paths are relative to the
 * predicate's own nodes. So nested predicates never make the outer operand depend on
 * the outer context, except through functions that read the clock or randomness.
 */
function predicateContextFree(e: XPathExpr): boolean {
  switch (e.type) {
    case 'call':
      return e.name !== 'random' && e.name !== 'uuid' && e.args.every(predicateContextFree);
    case 'negate':
      return predicateContextFree(e.operand);
    case 'binary':
      return predicateContextFree(e.left) && predicateContextFree(e.right);
    case 'filter':
      return predicateContextFree(e.base) && e.predicates.every(predicateContextFree);
    case 'path':
      return (
        (e.base === null || predicateContextFree(e.base)) &&
        e.steps.every((s) => s.predicates.every(predicateContextFree))
      );
    default:
      return true;
  }
}
