import { XFormError } from '../../errors/xform-error.ts';

/**
 * XPath 1.0 tokens (XPath 1.0 section 3.7). The lexer settles the two ambiguities the
 * grammar leaves to it: `*` and the names `and`, `or`, `div`, `mod` are operators unless
 * they start an expression or follow `@`, `::`, `(`, `[`, `,` or another operator.
 */
export type TokenKind =
  | 'number'
  | 'string'
  | 'name' // a name test or a function name: `data`, `orx:meta`, `jr:itext`, `prefix:*`
  | 'function' // a name directly followed by `(` (node types excluded)
  | 'nodetype' // text, node, comment, processing-instruction followed by `(`
  | 'axis' // a name followed by `::`
  | 'variable'
  | 'op' // operators and punctuation: / // ( ) [ ] . .. @ , | + - = != < <= > >= * div mod and or
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  /** 0-based offset in the source. */
  readonly pos: number;
}

const NODE_TYPES = new Set(['text', 'node', 'comment', 'processing-instruction']);
const OPERATOR_NAMES = new Set(['and', 'or', 'div', 'mod']);

export function syntaxError(source: string, pos: number, message: string): XFormError {
  return new XFormError('xpath-syntax', `${message} at position ${pos + 1} in XPath "${source}"`, {
    expression: source,
  });
}

function isNameStart(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 95 || // _
    c >= 0xc0
  );
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46; // digits - .
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Whether the previous token lets `*` / `and` etc. be an operator (XPath 1.0 3.7). */
function operatorContext(prev: Token | undefined): boolean {
  if (prev === undefined) return false;
  if (prev.kind === 'op') {
    return prev.value === ')' || prev.value === ']' || prev.value === '.' || prev.value === '..';
  }
  return prev.kind !== 'axis';
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  const push = (kind: TokenKind, value: string, pos: number): void => {
    tokens.push({ kind, value, pos });
  };
  while (i < n) {
    const c = source.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    const prev = tokens[tokens.length - 1];
    // Numbers: `12`, `1.5`, `.5` (XPath has no exponent notation).
    if (isDigit(c) || (c === 46 && isDigit(source.charCodeAt(i + 1)))) {
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      if (source.charCodeAt(i) === 46) {
        i++;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      }
      push('number', source.slice(start, i), start);
      continue;
    }
    if (c === 34 || c === 39) {
      const end = source.indexOf(source[i] as string, i + 1);
      if (end < 0) throw syntaxError(source, start, 'Unterminated string literal');
      push('string', source.slice(i + 1, end), start);
      i = end + 1;
      continue;
    }
    if (c === 36) {
      // `$name` (a QName)
      i++;
      const nameStart = i;
      if (!isNameStart(source.charCodeAt(i)))
        throw syntaxError(source, start, 'Expected a variable name after "$"');
      while (i < n && (isNameChar(source.charCodeAt(i)) || source.charCodeAt(i) === 58)) i++;
      push('variable', source.slice(nameStart, i), start);
      continue;
    }
    if (isNameStart(c)) {
      while (i < n && isNameChar(source.charCodeAt(i))) i++;
      // QName `prefix:local` or `prefix:*`, but not the axis separator `::`.
      if (source.charCodeAt(i) === 58 && source.charCodeAt(i + 1) !== 58) {
        const after = source.charCodeAt(i + 1);
        if (isNameStart(after)) {
          i++;
          while (i < n && isNameChar(source.charCodeAt(i))) i++;
        } else if (after === 42) {
          i += 2;
        }
      }
      const name = source.slice(start, i);
      if (operatorContext(prev) && OPERATOR_NAMES.has(name)) {
        push('op', name, start);
        continue;
      }
      let j = i;
      while (j < n && isSpace(source.charCodeAt(j))) j++;
      if (source.charCodeAt(j) === 40) {
        push(NODE_TYPES.has(name) ? 'nodetype' : 'function', name, start);
      } else if (source.charCodeAt(j) === 58 && source.charCodeAt(j + 1) === 58) {
        push('axis', name, start);
        i = j + 2;
      } else {
        push('name', name, start);
      }
      continue;
    }
    const c2 = source.charCodeAt(i + 1);
    if (
      (c === 47 && c2 === 47) || // //
      (c === 46 && c2 === 46) || // ..
      (c2 === 61 && (c === 33 || c === 60 || c === 62)) // != <= >=
    ) {
      push('op', source.slice(i, i + 2), start);
      i += 2;
      continue;
    }
    const one = source[i] as string;
    if (one === '*') {
      push(operatorContext(prev) ? 'op' : 'name', '*', start);
      i++;
      continue;
    }
    if ('/()[].@,|+-=<>'.includes(one)) {
      push('op', one, start);
      i++;
      continue;
    }
    throw syntaxError(source, start, `Unexpected character "${one}"`);
  }
  tokens.push({ kind: 'eof', value: '', pos: n });
  return tokens;
}
