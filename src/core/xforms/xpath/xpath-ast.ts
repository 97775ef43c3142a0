/**
 * The syntax tree `parseXPath` builds and the evaluator walks. Plain objects with a
 * `type` discriminator, so a compiled expression is cheap to keep and easy to inspect.
 */
export type XPathExpr =
  | NumberLiteral
  | StringLiteral
  | VariableRef
  | BinaryExpr
  | NegateExpr
  | FunctionCall
  | FilterExpr
  | PathExpr;

export interface NumberLiteral {
  readonly type: 'number';
  readonly value: number;
}

export interface StringLiteral {
  readonly type: 'string';
  readonly value: string;
}

/** `$name`: used by suite detail templates (`<xpath function><variable name>`). */
export interface VariableRef {
  readonly type: 'variable';
  readonly name: string;
}

export type BinaryOp =
  | 'or'
  | 'and'
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | 'div'
  | 'mod'
  | '|';

export interface BinaryExpr {
  readonly type: 'binary';
  readonly op: BinaryOp;
  readonly left: XPathExpr;
  readonly right: XPathExpr;
}

export interface NegateExpr {
  readonly type: 'negate';
  readonly operand: XPathExpr;
}

export interface FunctionCall {
  readonly type: 'call';
  /** As written, prefix included (`jr:itext` stays `jr:itext`). */
  readonly name: string;
  readonly args: readonly XPathExpr[];
}

/** `(expr)[pred]`, or a function call followed by predicates. */
export interface FilterExpr {
  readonly type: 'filter';
  readonly base: XPathExpr;
  readonly predicates: readonly XPathExpr[];
}

export type Axis =
  | 'child'
  | 'attribute'
  | 'parent'
  | 'self'
  | 'descendant'
  | 'descendant-or-self'
  | 'ancestor'
  | 'ancestor-or-self'
  | 'following-sibling'
  | 'preceding-sibling'
  | 'following'
  | 'preceding';

/**
 * Name tests match on the local name only (see compile-xpath.ts): `prefix` is kept for
 * `references()` and error messages.
 */
export type NodeTest =
  | { readonly kind: 'name'; readonly local: string; readonly prefix: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'text' }
  | { readonly kind: 'node' }
  // The tree keeps no comments or processing instructions: these match nothing.
  | { readonly kind: 'comment' }
  | { readonly kind: 'processing-instruction' };

export interface Step {
  readonly axis: Axis;
  readonly test: NodeTest;
  readonly predicates: readonly XPathExpr[];
}

/**
 * A location path. `base` is set for `filter/steps` (`instance('casedb')/casedb/case`),
 * `absolute` for paths starting at the root (`/data/x`, `//x`).
 */
export interface PathExpr {
  readonly type: 'path';
  readonly absolute: boolean;
  readonly base: XPathExpr | null;
  readonly steps: readonly Step[];
}
