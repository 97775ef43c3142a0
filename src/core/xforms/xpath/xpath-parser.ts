import { XFormError } from '../../errors/xform-error.ts';
import type { Axis, BinaryOp, NodeTest, Step, XPathExpr } from './xpath-ast.ts';
import { syntaxError, type Token, tokenize } from './xpath-lexer.ts';

/**
 * A recursive-descent parser for the XPath 1.0 grammar (XPath 1.0 sections 2 and 3), one
 * function per precedence level, lowest first: or, and, = !=, < <= > >=, + -, * div mod,
 * unary minus, |, paths. CommCare's parser (commcare-core `org.javarosa.xpath.parser`)
 * follows the same grammar; we differ where it refuses XPath it calls unsupported
 * (`//`, other axes, `|`, filter expressions), which we evaluate.
 */
export function parseXPath(source: string): XPathExpr {
  if (source.trim() === '') throw syntaxError(source, 0, 'Empty expression');
  return new Parser(source, tokenize(source)).parseAll();
}

const AXES = new Set<Axis>([
  'child',
  'attribute',
  'parent',
  'self',
  'descendant',
  'descendant-or-self',
  'ancestor',
  'ancestor-or-self',
  'following-sibling',
  'preceding-sibling',
  'following',
  'preceding',
]);

/** Binary operators below unary minus, loosest first (XPath 1.0 section 3.4 and 3.5). */
const PRECEDENCE = new Map<string, number>([
  ['or', 1],
  ['and', 2],
  ['=', 3],
  ['!=', 3],
  ['<', 4],
  ['<=', 4],
  ['>', 4],
  ['>=', 4],
  ['+', 5],
  ['-', 5],
  ['*', 6],
  ['div', 6],
  ['mod', 6],
]);

const DESCENDANT_OR_SELF_NODE: Step = {
  axis: 'descendant-or-self',
  test: { kind: 'node' },
  predicates: [],
};

class Parser {
  private i = 0;
  private readonly source: string;
  private readonly tokens: Token[];

  constructor(source: string, tokens: Token[]) {
    this.source = source;
    this.tokens = tokens;
  }

  parseAll(): XPathExpr {
    const e = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') throw this.fail(t, `Unexpected "${t.value}"`);
    return e;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }

  private isOp(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'op' && t.value === value;
  }

  private expectOp(value: string): void {
    const t = this.next();
    if (t.kind !== 'op' || t.value !== value) {
      throw this.fail(
        t,
        t.kind === 'eof'
          ? `Expected "${value}" before the end`
          : `Expected "${value}" but found "${t.value}"`,
      );
    }
  }

  private fail(t: Token, message: string): Error {
    return syntaxError(this.source, t.pos, message);
  }

  /**
   * The binary levels from `or` down to `* div mod`, by precedence climbing: one call per
   * operand instead of one per level, and the same left-associative tree as the grammar's
   * one-function-per-level form.
   */
  private parseBinary(minPrecedence: number): XPathExpr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.tokens[this.i] as Token;
      if (t.kind !== 'op') return left;
      const p = PRECEDENCE.get(t.value);
      if (p === undefined || p < minPrecedence) return left;
      this.i++;
      const right = this.parseBinary(p + 1);
      left = { type: 'binary', op: t.value as BinaryOp, left, right };
    }
  }

  private parseOr(): XPathExpr {
    return this.parseBinary(1);
  }

  private parseUnary(): XPathExpr {
    if (this.isOp('-')) {
      this.i++;
      return { type: 'negate', operand: this.parseUnary() };
    }
    return this.parseUnion();
  }

  private parseUnion(): XPathExpr {
    let left = this.parsePath();
    while (this.isOp('|')) {
      this.i++;
      left = { type: 'binary', op: '|', left, right: this.parsePath() };
    }
    return left;
  }

  private parsePath(): XPathExpr {
    const t = this.peek();
    if (t.kind === 'eof') throw this.fail(t, 'Unexpected end of expression');
    if (t.kind === 'op' && (t.value === '/' || t.value === '//')) return this.parseAbsolutePath();
    if (this.startsPrimary(t)) {
      const primary = this.parsePrimary();
      const predicates = this.parsePredicates();
      const base: XPathExpr = predicates.length > 0 ? { type: 'filter', base: primary, predicates } : primary;
      if (this.isOp('/') || this.isOp('//')) {
        const steps: Step[] = [];
        this.parseRelativeSteps(steps);
        return { type: 'path', absolute: false, base, steps };
      }
      return base;
    }
    const steps: Step[] = [];
    steps.push(this.parseStep());
    this.parseRelativeSteps(steps);
    return { type: 'path', absolute: false, base: null, steps };
  }

  private startsPrimary(t: Token): boolean {
    return (
      t.kind === 'number' ||
      t.kind === 'string' ||
      t.kind === 'variable' ||
      t.kind === 'function' ||
      (t.kind === 'op' && t.value === '(')
    );
  }

  private parseAbsolutePath(): XPathExpr {
    const steps: Step[] = [];
    const first = this.next();
    if (first.value === '//') {
      steps.push(DESCENDANT_OR_SELF_NODE);
      steps.push(this.parseStep());
    } else if (this.startsStep(this.peek())) {
      steps.push(this.parseStep());
    } else {
      // `/` alone: the root node.
      return { type: 'path', absolute: true, base: null, steps };
    }
    this.parseRelativeSteps(steps);
    return { type: 'path', absolute: true, base: null, steps };
  }

  private startsStep(t: Token): boolean {
    if (t.kind === 'name' || t.kind === 'axis' || t.kind === 'nodetype') return true;
    return t.kind === 'op' && (t.value === '@' || t.value === '.' || t.value === '..');
  }

  private parseRelativeSteps(steps: Step[]): void {
    for (;;) {
      if (this.isOp('/')) {
        this.i++;
      } else if (this.isOp('//')) {
        this.i++;
        steps.push(DESCENDANT_OR_SELF_NODE);
      } else {
        return;
      }
      steps.push(this.parseStep());
    }
  }

  private parseStep(): Step {
    const t = this.next();
    if (t.kind === 'op' && t.value === '.')
      return { axis: 'self', test: { kind: 'node' }, predicates: this.parsePredicates() };
    if (t.kind === 'op' && t.value === '..')
      return { axis: 'parent', test: { kind: 'node' }, predicates: this.parsePredicates() };
    let axis: Axis = 'child';
    let testToken = t;
    if (t.kind === 'op' && t.value === '@') {
      axis = 'attribute';
      testToken = this.next();
    } else if (t.kind === 'axis') {
      if (t.value === 'namespace') {
        throw new XFormError(
          'xpath-unsupported',
          `The namespace axis is not supported in XPath "${this.source}"`,
          {
            expression: this.source,
          },
        );
      }
      if (!AXES.has(t.value as Axis)) throw this.fail(t, `Unknown axis "${t.value}"`);
      axis = t.value as Axis;
      testToken = this.next();
    }
    const test = this.parseNodeTest(testToken);
    return { axis, test, predicates: this.parsePredicates() };
  }

  private parseNodeTest(t: Token): NodeTest {
    if (t.kind === 'name') {
      if (t.value === '*') return { kind: 'any' };
      const colon = t.value.indexOf(':');
      if (colon < 0) return { kind: 'name', local: t.value, prefix: '' };
      const local = t.value.slice(colon + 1);
      // `prefix:*` matches any name: names match on their local part (compile-xpath.ts).
      if (local === '*') return { kind: 'any' };
      return { kind: 'name', local, prefix: t.value.slice(0, colon) };
    }
    if (t.kind === 'nodetype') {
      this.expectOp('(');
      this.expectOp(')');
      if (t.value === 'text') return { kind: 'text' };
      if (t.value === 'node') return { kind: 'node' };
      if (t.value === 'comment') return { kind: 'comment' };
      return { kind: 'processing-instruction' };
    }
    if (t.kind === 'eof') throw this.fail(t, 'Expected a step before the end');
    throw this.fail(t, `Expected a step but found "${t.value}"`);
  }

  private parsePredicates(): XPathExpr[] {
    const predicates: XPathExpr[] = [];
    while (this.isOp('[')) {
      this.i++;
      predicates.push(this.parseOr());
      this.expectOp(']');
    }
    return predicates;
  }

  private parsePrimary(): XPathExpr {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { type: 'number', value: Number(t.value) };
      case 'string':
        return { type: 'string', value: t.value };
      case 'variable':
        return { type: 'variable', name: t.value };
      case 'function': {
        this.expectOp('(');
        const args: XPathExpr[] = [];
        if (!this.isOp(')')) {
          args.push(this.parseOr());
          while (this.isOp(',')) {
            this.i++;
            args.push(this.parseOr());
          }
        }
        this.expectOp(')');
        return { type: 'call', name: t.value, args };
      }
      default: {
        // '('
        const e = this.parseOr();
        this.expectOp(')');
        return e;
      }
    }
  }
}
