import type { InstanceNode, XPathNode } from '../tree/instance-node.ts';
import type { XPathExpr } from './xpath-ast.ts';

/**
 * The contract between the XPath evaluator and its callers (the form model, the suite's
 * menus, case lists and details). Values follow XPath 1.0 plus JavaRosa's date type:
 * `XPathDate` is what `today()`, `now()` and `date()` return; it turns into days since
 * 1970-01-01 in arithmetic and into `YYYY-MM-DD` (or an ISO date-time) as a string.
 */
export type XPathValue = string | number | boolean | XPathDate | XPathNode[];

export interface XPathDate {
  readonly kind: 'date';
  /** Epoch milliseconds. */
  readonly ms: number;
  /** `true` for a date-time (`now()`), `false` for a calendar date (`today()`, `date()`). */
  readonly time: boolean;
}

/** A function a host adds (CommCare extensions the evaluator does not know). */
export type XPathFunction = (args: XPathValue[], ctx: XPathEvalContext) => XPathValue;

/** What the host supplies to an evaluation; I/O stays outside the evaluator. */
export interface XPathEnvironment {
  /** The document node of a secondary instance (`instance('casedb')`), or undefined. */
  instance(id: string): InstanceNode | undefined;
  /** The clock `today()` and `now()` read. */
  now(): Date;
  /** `random()`; seeded by runners for reproducible runs. */
  random(): number;
  /** `uuid()` with no argument: a v4 UUID. */
  uuid(): string;
  /** Extra functions by name, consulted before the built-in table. */
  functions?: ReadonlyMap<string, XPathFunction>;
  /**
   * The document absolute paths (`/data/x`) start from: the form's primary instance. As in
   * JavaRosa, `/data/x` inside `instance('casedb')/casedb/case[...]` still means the form's
   * node. Default: the root of the node the expression is evaluated for (`current()`).
   */
  root?: InstanceNode;
}

export interface XPathEvalContext {
  node: XPathNode;
  /** 1-based position and size of the context node-set. */
  position: number;
  size: number;
  env: XPathEnvironment;
  /** `current()`: the node the whole expression was evaluated for. */
  current?: XPathNode;
  /** `$name` values (suite detail templates declare them with `<variable name>`). */
  variables?: ReadonlyMap<string, XPathValue>;
}

/** A parsed expression, reusable across evaluations. */
export interface CompiledXPath {
  readonly source: string;
  /** The parsed expression (xpath-ast.ts), for hosts that analyse or rewrite it. */
  readonly ast?: XPathExpr;
  evaluate(ctx: XPathEvalContext): XPathValue;
  evaluateString(ctx: XPathEvalContext): string;
  evaluateNumber(ctx: XPathEvalContext): number;
  evaluateBoolean(ctx: XPathEvalContext): boolean;
  evaluateNodes(ctx: XPathEvalContext): XPathNode[];
  /**
   * The paths the expression reads, for dependency tracking: each path in generic form
   * (no predicates, no positions), e.g. `/data/household/name` or `@case_id` relative to
   * the context. `instance` is null for the context's own document.
   */
  references(): XPathReference[];
}

export interface XPathReference {
  /** `instance('id')` the path starts from, or null for the context document. */
  instance: string | null;
  absolute: boolean;
  /** Steps as written without predicates: `data`, `..`, `.`, `@case_id`, `*`. */
  steps: string[];
}

/**
 * What a built-in function may ask of the evaluator running it: evaluate an argument, or
 * turn a value into a node-set. Declared here, not as the Evaluator class, so the function
 * table and the evaluator do not import each other.
 */
export interface XPathCallee {
  /** The expression text, for error messages. */
  readonly source: string;
  evaluate(e: XPathExpr, ctx: XPathEvalContext): XPathValue;
  nodes(v: XPathValue, what: string): XPathNode[];
}
