import { XmlError, type XmlPosition } from '../errors/xml-error.ts';
import { ASCII_NAME, firstInvalidChar, hasAstral, isXmlChar, nonAsciiNameLength } from './xml-chars.ts';

/**
 * A streaming, pull-style XML 1.0 tokenizer for large documents (the OTA restore), written
 * for speed: it scans string chunks with charCodeAt/indexOf loops, resolves a token at a
 * time on request (`next()`), and never calls back per character. It enforces
 * well-formedness and throws `XmlError('xml-malformed')` with the line and column of the
 * fault; line and column are counted lazily (one indexOf pass over newlines, only up to
 * where a position is asked for), so the fast path does no per-character bookkeeping.
 *
 * What it accepts is XML 1.0 (fifth edition) without a DTD:
 * - elements, attributes (quoted; `<` refused; tab/newline normalised to space), text,
 *   CDATA sections, comments and processing instructions (skipped), the XML declaration
 *   at the very start, a BOM;
 * - the five predefined entities and character references that resolve to a Char.
 *
 * What it refuses, each as an `XmlError`: any DOCTYPE (so no entity is ever defined or
 * expanded), mismatched or unclosed tags, bad names, bad attribute syntax, duplicate
 * attributes, unknown entities, character references to illegal characters, text, CDATA
 * or a second element outside the root, `]]>` in text, `--` in comments, unterminated
 * markup, characters that are not Chars (controls, lone surrogates, U+FFFE/U+FFFF) and a
 * reserved `xml` processing-instruction target after the start.
 *
 * Namespaces are not resolved here (names keep their prefixes), as with saxes' `xmlns:
 * false`: the restore parser resolves the few it dispatches on.
 *
 * Memory: the scanner holds the unfinished token and the text node being read; callers
 * bound them by comparing `fed` with the position of their last token (see
 * restore-parser.ts).
 */

export const TOKEN_NONE = 0;
export const TOKEN_OPEN = 1;
export const TOKEN_CLOSE = 2;
export const TOKEN_TEXT = 3;
export const TOKEN_CDATA = 4;
export type XmlToken =
  | typeof TOKEN_NONE
  | typeof TOKEN_OPEN
  | typeof TOKEN_CLOSE
  | typeof TOKEN_TEXT
  | typeof TOKEN_CDATA;

const TAB = 0x09;
const NL = 0x0a;
const SPACE = 0x20;
const DQUOTE = 0x22;
const HASH = 0x23;
const AMP = 0x26;
const SQUOTE = 0x27;
const SLASH = 0x2f;
const SEMI = 0x3b;
const LT = 0x3c;
const EQ = 0x3d;
const GT = 0x3e;
const QUESTION = 0x3f;
const BANG = 0x21;
const RBRACKET = 0x5d;

const PROLOG = 0;
const ROOT = 1;
const EPILOG = 2;

/**
 * Attribute objects have no prototype chain holding Object.prototype (as saxes' did), so a
 * hostile `constructor` or `__proto__` attribute is an ordinary own property and a lookup
 * of an absent name is `undefined`; unlike `Object.create(null)` objects they stay in V8's
 * fast mode.
 */
const AttributeBag = function AttributeBag(): void {} as unknown as new () => Record<string, string>;
(AttributeBag as unknown as { prototype: object }).prototype = Object.create(null) as object;
/** Shared by every element without attributes (most of them); frozen so nobody writes to it. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze(new AttributeBag());

const XML_DECL =
  /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>$/;

const NAME_SLOTS = 4096;
const HOLD_MAX = 64 * 1024;

function nameKey(s: string, p: number, delim: number): number {
  const d = delim < 0 ? 255 : Math.min(delim - p, 255);
  // Fibonacci hashing of the three bytes: the top 12 bits of the product.
  return (
    Math.imul(((s.charCodeAt(p) & 0xff) << 16) | ((s.charCodeAt(p + 1) & 0xff) << 8) | d, 0x9e3779b1) >>> 20
  );
}

const isSpace = (c: number): boolean => c === SPACE || c === NL || c === TAB;

/** End of the name that starts at `p` (the first non-name character), or `limit`. */
function nameEnd(s: string, p: number, limit: number): number {
  while (p < limit) {
    const c = s.charCodeAt(p);
    if (c < 128) {
      if (((ASCII_NAME[c] as number) & 1) === 0) return p;
      p++;
    } else {
      const n = nonAsciiNameLength(s, p, limit, false);
      if (n === 0) return p;
      p += n;
    }
  }
  return p;
}

function isNameStartAt(s: string, p: number, limit: number): boolean {
  const c = s.charCodeAt(p);
  return c < 128 ? ((ASCII_NAME[c] as number) & 2) !== 0 : nonAsciiNameLength(s, p, limit, true) > 0;
}

function describe(s: string, p: number): string {
  const c = s.charCodeAt(p);
  return c >= 0x21 && c < 0x7f ? `'${s[p]}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

export class XmlScanner {
  /** Qualified name of the element of the last OPEN or CLOSE token. */
  name = '';
  /** Attributes of the last OPEN token, values with entities resolved and normalised. */
  attributes: Record<string, string> = NO_ATTRIBUTES;
  /** Whether the last OPEN token was `<x/>` (its CLOSE token comes next). */
  selfClosing = false;
  /** Content of the last TEXT or CDATA token, entities resolved. */
  text = '';

  private buf = '';
  /** Scan index in `buf`: everything before it is consumed. */
  private i = 0;
  /** Absolute position of `buf[0]` in the (normalised) document. */
  private base = 0;
  /** End of what may be scanned in `buf`: its length, or the index of an illegal character. */
  private limit = 0;
  private badAt = -1;
  /**
   * Index in `buf` of the next `&`, tab and newline at or after the scan point, -1 for none
   * in `buf`, -2 for not searched yet: text and attribute values are cut with indexOf and
   * need these only to know they hold none, so each is searched about once per occurrence.
   */
  private nextAmp = -2;
  private nextTab = -2;
  private nextNl = -2;
  private nextCdEnd = -2;
  private nextLt = -2;
  private fedChars = 0;
  /** A trailing CR or high surrogate kept until the next chunk says what it is. */
  private carry = '';
  private started = false;
  private phase = PROLOG;
  private readonly stack: string[] = [];
  private pendingClose = false;
  /** Text of the current text node read from earlier chunks. */
  private acc = '';
  /** Chunks received but not yet joined to `buf` (see `add`). */
  private held: string[] = [];
  private heldChars = 0;
  /** Markup is unfinished: do nothing until a `>` arrives at or after `gtFrom` (absolute). */
  private waitGt = false;
  private gtFrom = 0;
  private entityValue = '';
  /** A start tag cut after some attributes: where it starts (absolute), and what is read. */
  private tagAt = -1;
  private tagName = '';
  /**
   * Attributes of the start tag being read, as name/value pairs; the object is built when
   * the tag is complete, so a hostile tag that never ends costs no growing hash table.
   */
  private readonly attrNames: string[] = [];
  private readonly attrValues: string[] = [];
  /** Where each attribute's name starts (absolute), for the duplicate's error position. */
  private readonly attrAt: number[] = [];
  private attrCount = 0;
  private tagResume = 0;
  /** Names seen before (see `known`). */
  private readonly elementNames: string[] = new Array<string>(NAME_SLOTS).fill('');
  private readonly attributeNames: string[] = new Array<string>(NAME_SLOTS).fill('');
  private cdata = false;
  // Lazy line counting: lines are known up to `counted` (absolute).
  private line = 1;
  private lineStart = 0;
  private counted = 0;
  /** Index in `buf` of the next newline at or after `counted`; -1 none; -2 not searched. */
  private nl = -2;
  private astral = false;
  private astralOnLine = 0;

  /** Characters received so far (after newline normalisation). */
  get fed(): number {
    return this.fedChars;
  }

  /** Absolute end of the input readable so far (`fed` minus what is held back). */
  get available(): number {
    return this.base + this.buf.length;
  }

  /** Absolute position just after the last token returned. */
  get position(): number {
    return this.base + this.i;
  }

  /** Open elements, the root included. */
  get depth(): number {
    return this.stack.length;
  }

  /** Line (1-based) and column (0-based, in characters) just after the last token. */
  where(): XmlPosition {
    return this.at(this.base + this.i);
  }

  /** Adds a chunk of the document. */
  push(chunk: string): void {
    this.add(chunk, false);
  }

  private add(chunk: string, final: boolean): void {
    let t = this.carry === '' ? chunk : this.carry + chunk;
    this.carry = '';
    if (!this.started && t.length > 0) {
      this.started = true;
      if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    }
    if (t.length === 0) return;
    const last = t.charCodeAt(t.length - 1);
    if (!final && (last === 0x0d || (last >= 0xd800 && last <= 0xdbff))) {
      this.carry = t.slice(-1);
      t = t.slice(0, -1);
      if (t.length === 0) return;
    }
    // XML 2.11: CR LF and a lone CR are read as LF, in text and attribute values alike.
    if (t.indexOf('\r') !== -1) t = t.replace(/\r\n?/g, '\n');
    // One native regex pass finds characters that are not Chars, so the scanning loops
    // need not test each character; the scan stops there and fails (see `stall`).
    const bad = this.badAt >= 0 ? -1 : firstInvalidChar(t);
    if (bad >= 0) this.badAt = this.base + this.buf.length + this.heldChars + bad;
    this.fedChars += t.length;
    this.held.push(t);
    this.heldChars += t.length;
    // While an unfinished token is long, small chunks are held until they add 64 KiB or
    // half its length: joining and rescanning it for every tiny chunk would cost its length
    // each time (quadratic for a token trickled a few bytes at a time).
    if (!final && this.heldChars < HOLD_MAX && this.heldChars * 2 < this.buf.length - this.i) return;
    this.join();
  }

  private join(): void {
    const i = this.i;
    this.advance(this.base + i);
    const tail = i < this.buf.length ? this.buf.slice(i) : '';
    this.base += i;
    // join, not +: a cons string would make every charCodeAt below unwrap it.
    this.buf =
      tail.length === 0 && this.held.length === 1 ? (this.held[0] as string) : [tail, ...this.held].join('');
    // The tail keeps the flag it had (at worst, columns are counted the slower way).
    let astral = tail.length > 0 && this.astral;
    for (const h of this.held) astral ||= hasAstral(h);
    this.astral = astral;
    this.held = [];
    this.heldChars = 0;
    this.i = 0;
    this.nl = -2;
    this.limit = this.badAt >= 0 ? this.badAt - this.base : this.buf.length;
    this.nextAmp = this.nextTab = this.nextNl = this.nextCdEnd = this.nextLt = -2;
  }

  /**
   * Says the input is complete: what was held back (see `push`) becomes readable. Read the
   * remaining tokens with `next`, then call `end`.
   */
  finish(): void {
    if (this.carry !== '') {
      const c = this.carry;
      this.carry = '';
      this.add(c === '\r' ? '\n' : c, true);
    } else if (this.heldChars > 0) this.join();
  }

  /**
   * The next token, or TOKEN_NONE when the input so far is used up (push more, or call
   * `end`). Comments, processing instructions and whitespace outside the root are skipped.
   */
  next(): XmlToken {
    if (this.pendingClose) {
      this.pendingClose = false;
      this.name = this.stack.pop() as string;
      if (this.stack.length === 0) this.phase = EPILOG;
      return TOKEN_CLOSE;
    }
    if (this.waitGt) {
      const k = this.buf.indexOf('>', this.gtFrom - this.base);
      if (k < 0 || k >= this.limit) return this.stall(this.i, true);
      this.waitGt = false;
    }
    const s = this.buf;
    const lim = this.limit;
    let i = this.i;
    while (i < lim) {
      if (s.charCodeAt(i) !== LT) {
        if (this.phase === ROOT) {
          const k = this.scanText(s, i, lim);
          if (k < 0) return this.stall(this.i, false);
          this.i = k;
          return TOKEN_TEXT;
        }
        i = this.skipSpace(s, i, lim);
        continue;
      }
      if (this.acc.length !== 0) {
        // A text node read across chunks ends right at a chunk boundary.
        this.text = this.acc;
        this.acc = '';
        this.i = i;
        return TOKEN_TEXT;
      }
      if (i + 1 >= lim) return this.stall(i, true);
      const c = s.charCodeAt(i + 1);
      if (c === SLASH) {
        const k = this.closeTag(s, i, lim);
        if (k < 0) return this.stall(i, true);
        this.i = k;
        return TOKEN_CLOSE;
      }
      if (c === BANG) {
        const k = this.bang(s, i, lim);
        if (k < 0) return this.stall(i, true);
        if (this.cdata) {
          this.cdata = false;
          this.i = k;
          return TOKEN_CDATA;
        }
        i = k;
        continue;
      }
      if (c === QUESTION) {
        const k = this.pi(s, i, lim);
        if (k < 0) return this.stall(i, true);
        i = k;
        continue;
      }
      const k = this.openTag(s, i, lim);
      if (k < 0) return this.stall(i, true);
      this.i = k;
      return TOKEN_OPEN;
    }
    return this.stall(i, false);
  }

  /** Final checks, after `finish` and reading every token. */
  end(): void {
    this.finish();
    while (this.next() !== TOKEN_NONE) {
      // Tokens not read after `finish` are dropped; the checks below still see them.
    }
    if (this.phase === PROLOG) this.fail('The document has no root element', this.buf.length);
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) this.fail(`The document ends inside the element <${top}>`, this.buf.length);
    if (this.i < this.buf.length) {
      const tail = this.buf.slice(this.i, this.i + 9);
      const what = tail.startsWith('<!--')
        ? 'a comment'
        : tail.startsWith('<?')
          ? 'a processing instruction'
          : 'markup';
      this.fail(`The document ends inside ${what}`, this.i);
    }
  }

  private stall(i: number, markup: boolean): XmlToken {
    this.i = i;
    // Stopped at an illegal character: nothing before it is left to read.
    if (this.limit < this.buf.length) this.invalid(this.buf, this.limit);
    if (markup) {
      this.waitGt = true;
      this.gtFrom = this.base + this.buf.length;
    }
    return TOKEN_NONE;
  }

  /**
   * A code unit >= U+D800 at `k` in text or an attribute value: returns the index of its
   * last code unit (a surrogate pair is two), or fails for a character that is not a Char.
   * A chunk never ends on a high surrogate (see `add`), so a pair is never cut here.
   */
  private checkHigh(s: string, k: number, lim: number): number {
    const c = s.charCodeAt(k);
    if (c <= 0xdbff) {
      if (k + 1 < lim) {
        const d = s.charCodeAt(k + 1);
        if (d >= 0xdc00 && d <= 0xdfff) return k + 1;
      }
      this.invalid(s, k);
    }
    if (c <= 0xdfff || c >= 0xfffe) this.invalid(s, k);
    return k;
  }

  private invalid(s: string, k: number): never {
    const hex = s.charCodeAt(k).toString(16).toUpperCase().padStart(4, '0');
    this.fail(`Invalid character U+${hex} (not allowed in XML 1.0)`, k);
  }

  /** Characters skipped by indexOf (comments, CDATA, processing instructions) are checked here. */
  private checkChars(s: string, from: number, to: number): void {
    const bad = firstInvalidChar(s.slice(from, to));
    if (bad >= 0) this.invalid(s, from + bad);
  }

  private attributeObject(name: string, n: number): Record<string, string> {
    const o = new AttributeBag();
    for (let k = 0; k < n; k++) {
      const a = this.attrNames[k] as string;
      if (o[a] !== undefined)
        this.fail(`Duplicate attribute ${a} in <${name}>`, (this.attrAt[k] as number) - this.base);
      o[a] = this.attrValues[k] as string;
    }
    return o;
  }

  private suspend(i: number, name: string, attrs: number, q: number): number {
    this.tagAt = this.base + i;
    this.tagName = name;
    this.attrCount = attrs;
    this.tagResume = this.base + q;
    return -1;
  }

  private fail(message: string, index: number): never {
    throw new XmlError('xml-malformed', message, this.at(this.base + index));
  }

  private at(abs: number): XmlPosition {
    const p = Math.max(abs, this.counted);
    this.advance(p);
    return { line: this.line, column: p - this.lineStart - this.astralOnLine };
  }

  /** Counts newlines (and, for columns, surrogate pairs) up to `abs`, which must be in `buf`. */
  private advance(abs: number): void {
    if (abs <= this.counted) return;
    const s = this.buf;
    const base = this.base;
    const from = this.counted - base;
    const end = abs - base;
    let nl = this.nl === -2 ? s.indexOf('\n', from) : this.nl;
    let moved = false;
    while (nl !== -1 && nl < end) {
      this.line++;
      this.lineStart = base + nl + 1;
      moved = true;
      nl = s.indexOf('\n', nl + 1);
    }
    this.nl = nl;
    if (this.astral) {
      let n = 0;
      for (let k = moved ? this.lineStart - base : from; k < end; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0xd800 && c <= 0xdbff) n++;
      }
      this.astralOnLine = moved ? n : this.astralOnLine + n;
    } else if (moved) this.astralOnLine = 0;
    this.counted = abs;
  }

  /** Whitespace outside the root element; anything else there is an error. */
  private skipSpace(s: string, i: number, lim: number): number {
    for (; i < lim; i++) {
      const c = s.charCodeAt(i);
      if (c === LT) return i;
      if (!isSpace(c))
        this.fail(this.phase === PROLOG ? 'Text before the root element' : 'Text after the root element', i);
    }
    return i;
  }

  /**
   * Text in the root from `i`: sets `text` and returns the index of the `<` that ends it,
   * or keeps what is complete in `acc` and returns -1 at the end of the input.
   */
  private scanText(s: string, i: number, lim: number): number {
    const lt = s.indexOf('<', i);
    if (lt >= 0 && lt < lim && this.acc.length === 0) {
      let a = this.nextAmp;
      if (a !== -1 && a < i) a = this.nextAmp = s.indexOf('&', i);
      let b = this.nextCdEnd;
      if (b !== -1 && b < i) b = this.nextCdEnd = s.indexOf(']]>', i);
      if ((a < 0 || a > lt) && (b < 0 || b > lt)) {
        this.text = s.slice(i, lt);
        return lt;
      }
    }
    return this.scanTextSlow(s, i, lim);
  }

  /** scanText for text with references or `]]>`, or that runs past the end of the input. */
  private scanTextSlow(s: string, i: number, lim: number): number {
    let out = this.acc;
    let seg = i;
    let k = i;
    for (; k < lim; k++) {
      const c = s.charCodeAt(k);
      if (c > GT) {
        if (c < 0xd800) continue;
        k = this.checkHigh(s, k, lim);
        continue;
      }
      if (c === LT) break;
      if (c < SPACE && c !== NL && c !== TAB) this.invalid(s, k);
      if (c === AMP) {
        const e = this.entity(s, k, lim);
        if (e < 0) {
          this.acc = out + s.slice(seg, k);
          this.i = k;
          return -1;
        }
        out += s.slice(seg, k) + this.entityValue;
        seg = e;
        k = e - 1;
      } else if (
        c === GT &&
        k - 2 >= i &&
        s.charCodeAt(k - 1) === RBRACKET &&
        s.charCodeAt(k - 2) === RBRACKET
      ) {
        this.fail("']]>' is not allowed in text", k - 2);
      }
    }
    if (k >= lim) {
      // Keep up to two trailing ']' unread: with the next chunk they may make ']]>'.
      let end = k;
      if (end > seg && s.charCodeAt(end - 1) === RBRACKET) {
        end--;
        if (end > seg && s.charCodeAt(end - 1) === RBRACKET) end--;
      }
      this.acc = out + s.slice(seg, end);
      this.i = end;
      return -1;
    }
    this.text = seg === i && out.length === 0 ? s.slice(i, k) : out + s.slice(seg, k);
    this.acc = '';
    return k;
  }

  /** `&...;` at `k`: sets `entityValue`, returns the index after `;`, or -1 if cut off. */
  private entity(s: string, k: number, lim: number): number {
    let p = k + 1;
    if (p >= lim) return -1;
    if (s.charCodeAt(p) === HASH) {
      p++;
      if (p >= lim) return -1;
      const hex = s.charCodeAt(p) === 0x78;
      if (hex) p++;
      const digits = p;
      let cp = 0;
      let c = 0;
      for (; p < lim; p++) {
        c = s.charCodeAt(p);
        let v: number;
        if (c >= 0x30 && c <= 0x39) v = c - 0x30;
        else if (hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) v = (c | 0x20) - 0x61 + 10;
        else break;
        cp = Math.min(cp * (hex ? 16 : 10) + v, 0x110000);
      }
      if (p >= lim) return -1;
      if (c !== SEMI || p === digits) this.fail('Malformed character reference', k);
      if (!isXmlChar(cp))
        this.fail(`Character reference ${s.slice(k, p + 1)} is not a legal XML character`, k);
      this.entityValue = String.fromCodePoint(cp);
      return p + 1;
    }
    if (!isNameStartAt(s, p, lim)) this.fail("'&' must start an entity or character reference", k);
    const e = nameEnd(s, p, lim);
    if (e >= lim) return -1;
    if (s.charCodeAt(e) !== SEMI) this.fail(`Entity reference &${s.slice(p, e)} has no ';'`, k);
    const name = s.slice(p, e);
    let v: string;
    switch (name) {
      case 'amp':
        v = '&';
        break;
      case 'lt':
        v = '<';
        break;
      case 'gt':
        v = '>';
        break;
      case 'quot':
        v = '"';
        break;
      case 'apos':
        v = "'";
        break;
      default:
        this.fail(`Unknown entity &${name}; (only the five predefined entities exist without a DTD)`, k);
    }
    this.entityValue = v;
    return e + 1;
  }

  /**
   * A name seen before that starts at `p`, or ''. Names are remembered under a key made of
   * their first two characters and the distance from `p` to the next `>` (element names) or
   * `=` (attribute names), found natively; a remembered name is taken when it is at `p` and
   * followed by a character that cannot continue a name. A restore repeats a few dozen
   * names millions of times: this reads them without a per-character loop or a new string.
   */
  private known(table: string[], s: string, p: number, delim: number, lim: number): string {
    const cand = table[nameKey(s, p, delim)] as string;
    const e = p + cand.length;
    if (cand.length === 0 || e >= lim || !s.startsWith(cand, p)) return '';
    const c = s.charCodeAt(e);
    return (c < 128 ? ((ASCII_NAME[c] as number) & 1) === 0 : nonAsciiNameLength(s, e, lim, false) === 0)
      ? cand
      : '';
  }

  private learn(table: string[], s: string, p: number, e: number, delim: number): string {
    const name = s.slice(p, e);
    table[nameKey(s, p, delim)] = name;
    return name;
  }

  /** `<name attr="v"...>` at `i`: sets the token fields, returns the index after it or -1. */
  private openTag(s: string, i: number, lim: number): number {
    let name: string;
    let attrs = 0;
    let q: number;
    if (this.tagAt === this.base + i) {
      // Resume a start tag cut by the end of the input after its last complete attribute.
      name = this.tagName;
      attrs = this.attrCount;
      q = this.tagResume - this.base;
      this.tagAt = -1;
    } else {
      const p = i + 1;
      name = this.known(this.elementNames, s, p, s.indexOf('>', p), lim);
      if (name.length !== 0) q = p + name.length;
      else {
        if (!isNameStartAt(s, p, lim)) this.fail(`A tag name cannot start with ${describe(s, p)}`, p);
        q = nameEnd(s, p, lim);
        if (q >= lim) return -1;
        name = this.learn(this.elementNames, s, p, q, s.indexOf('>', p));
      }
    }
    let selfClosing = false;
    for (;;) {
      // Cut here (or in the attribute that follows), the tag resumes from here: a tag with
      // many attributes arriving over many chunks is read once, not once per chunk.
      const mark = q;
      if (q >= lim) return this.suspend(i, name, attrs, mark);
      let c = s.charCodeAt(q);
      if (c === GT) {
        q++;
        break;
      }
      if (c === SLASH) {
        if (q + 1 >= lim) return this.suspend(i, name, attrs, mark);
        if (s.charCodeAt(q + 1) !== GT)
          this.fail(`'/' must be followed by '>' in the start tag <${name}>`, q);
        q += 2;
        selfClosing = true;
        break;
      }
      if (!isSpace(c))
        this.fail(`Expected whitespace, '>' or '/>' in the start tag <${name}>, found ${describe(s, q)}`, q);
      do {
        if (++q >= lim) return this.suspend(i, name, attrs, mark);
        c = s.charCodeAt(q);
      } while (isSpace(c));
      if (c === GT || c === SLASH) continue;
      let attr = this.known(this.attributeNames, s, q, s.indexOf('=', q), lim);
      let an: number;
      if (attr.length !== 0) an = q + attr.length;
      else {
        if (!isNameStartAt(s, q, lim))
          this.fail(`An attribute name cannot start with ${describe(s, q)} (in <${name}>)`, q);
        an = nameEnd(s, q, lim);
        if (an >= lim) return this.suspend(i, name, attrs, mark);
        attr = this.learn(this.attributeNames, s, q, an, s.indexOf('=', q));
      }
      q = an;
      c = s.charCodeAt(q);
      while (isSpace(c)) {
        if (++q >= lim) return this.suspend(i, name, attrs, mark);
        c = s.charCodeAt(q);
      }
      if (c !== EQ) this.fail(`Attribute ${attr} of <${name}> has no value`, q);
      do {
        if (++q >= lim) return this.suspend(i, name, attrs, mark);
        c = s.charCodeAt(q);
      } while (isSpace(c));
      if (c !== DQUOTE && c !== SQUOTE)
        this.fail(`The value of attribute ${attr} of <${name}> is not quoted`, q);
      const vs = q + 1;
      let k = s.indexOf(c === DQUOTE ? '"' : "'", vs);
      if (k < 0 || k >= lim) return this.suspend(i, name, attrs, mark);
      let value: string;
      if (this.plainUpTo(s, vs, k)) value = s.slice(vs, k);
      else {
        k = this.attributeValue(s, vs, lim, c, name);
        if (k < 0) return this.suspend(i, name, attrs, mark);
        value = this.entityValue;
      }
      q = k + 1;
      this.attrNames[attrs] = attr;
      this.attrValues[attrs] = value;
      this.attrAt[attrs] = this.base + an - attr.length;
      attrs++;
    }
    if (this.phase !== ROOT) {
      if (this.phase === EPILOG) this.fail(`A second root element <${name}> after the root`, i);
      this.phase = ROOT;
    }
    this.name = name;
    this.attributes = attrs === 0 ? NO_ATTRIBUTES : this.attributeObject(name, attrs);
    this.selfClosing = selfClosing;
    this.stack.push(name);
    this.pendingClose = selfClosing;
    return q;
  }

  /** Whether `s[from..to)` holds no `<`, `&`, tab or newline (an attribute value as is). */
  private plainUpTo(s: string, from: number, to: number): boolean {
    let lt = this.nextLt;
    if (lt !== -1 && lt < from) lt = this.nextLt = s.indexOf('<', from);
    if (lt >= 0 && lt < to) return false;
    let a = this.nextAmp;
    if (a !== -1 && a < from) a = this.nextAmp = s.indexOf('&', from);
    if (a >= 0 && a < to) return false;
    let n = this.nextNl;
    if (n !== -1 && n < from) n = this.nextNl = s.indexOf('\n', from);
    if (n >= 0 && n < to) return false;
    let t = this.nextTab;
    if (t !== -1 && t < from) t = this.nextTab = s.indexOf('\t', from);
    return t < 0 || t >= to;
  }

  /**
   * An attribute value holding a reference, `<` or whitespace to normalise (XML 3.3.3),
   * from `vs` to its closing quote `q`: sets `entityValue`, returns the quote's index or -1.
   */
  private attributeValue(s: string, vs: number, lim: number, q: number, name: string): number {
    let out = '';
    let seg = vs;
    for (let k = vs; k < lim; k++) {
      const c = s.charCodeAt(k);
      if (c === q) {
        this.entityValue = out + s.slice(seg, k);
        return k;
      }
      if (c === LT) this.fail(`'<' is not allowed in an attribute value (in <${name}>)`, k);
      if (c >= 0xd800) k = this.checkHigh(s, k, lim);
      else if (c === NL || c === TAB) {
        out += `${s.slice(seg, k)} `;
        seg = k + 1;
      } else if (c === AMP) {
        const e = this.entity(s, k, lim);
        if (e < 0) return -1;
        out += s.slice(seg, k) + this.entityValue;
        seg = e;
        k = e - 1;
      } else if (c < SPACE) this.invalid(s, k);
    }
    return -1;
  }

  /** `</name>` at `i`: returns the index after it, or -1. */
  private closeTag(s: string, i: number, lim: number): number {
    const top = this.stack[this.stack.length - 1];
    const p = i + 2;
    if (top !== undefined && s.startsWith(top, p)) {
      let k = p + top.length;
      if (k >= lim) return -1;
      let c = s.charCodeAt(k);
      if (isSpace(c))
        do {
          if (++k >= lim) return -1;
          c = s.charCodeAt(k);
        } while (isSpace(c));
      if (c === GT) {
        this.stack.pop();
        if (this.stack.length === 0) this.phase = EPILOG;
        this.name = top;
        return k + 1;
      }
      if (
        k > p + top.length ||
        !(c < 128 ? ((ASCII_NAME[c] as number) & 1) !== 0 : nonAsciiNameLength(s, k, lim, false) > 0)
      )
        this.fail(`Expected '>' to end the end tag </${top}>, found ${describe(s, k)}`, k);
    }
    if (p >= lim) return -1;
    if (!isNameStartAt(s, p, lim)) this.fail(`An end tag name cannot start with ${describe(s, p)}`, p);
    const ne = nameEnd(s, p, lim);
    if (ne >= lim) return -1;
    const name = s.slice(p, ne);
    if (top === undefined) this.fail(`End tag </${name}> outside the root element`, i);
    this.fail(`End tag </${name}> does not match the start tag <${top}>`, i);
  }

  /** `<!` at `i`: a comment (skipped), a CDATA section (sets `cdata`), or an error. */
  private bang(s: string, i: number, lim: number): number {
    if (s.startsWith('<!--', i) && i + 4 <= lim) {
      const e = s.indexOf('--', i + 4);
      if (e < 0 || e + 2 >= lim) return -1;
      if (s.charCodeAt(e + 2) !== GT) this.fail("'--' is not allowed inside a comment", e);
      this.checkChars(s, i + 4, e);
      return e + 3;
    }
    if (s.startsWith('<![CDATA[', i) && i + 9 <= lim) {
      if (this.phase !== ROOT) this.fail('A CDATA section outside the root element', i);
      const e = s.indexOf(']]>', i + 9);
      if (e < 0 || e + 3 > lim) return -1;
      this.checkChars(s, i + 9, e);
      this.text = s.slice(i + 9, e);
      this.cdata = true;
      return e + 3;
    }
    if (s.startsWith('<!DOCTYPE', i) && i + 9 <= lim)
      this.fail('A DOCTYPE is not allowed (entity definitions are refused)', i);
    const seen = s.slice(i, Math.min(lim, i + 9));
    if (
      seen.length < 9 &&
      ('<!--'.startsWith(seen) || '<![CDATA['.startsWith(seen) || '<!DOCTYPE'.startsWith(seen))
    )
      return -1;
    return this.fail(`Unexpected markup ${JSON.stringify(seen)}`, i);
  }

  /** `<?target ...?>` at `i`: skipped, or checked as the XML declaration. Returns the end or -1. */
  private pi(s: string, i: number, lim: number): number {
    const p = i + 2;
    if (p >= lim) return -1;
    if (!isNameStartAt(s, p, lim)) this.fail('A processing instruction without a target', p);
    const ne = nameEnd(s, p, lim);
    if (ne >= lim) return -1;
    const c = s.charCodeAt(ne);
    if (c !== QUESTION && !isSpace(c))
      this.fail(`Unexpected ${describe(s, ne)} after a processing instruction's target`, ne);
    const e = s.indexOf('?>', ne);
    if (e < 0 || e + 2 > lim) return -1;
    this.checkChars(s, ne, e);
    const target = s.slice(p, ne);
    if (target.length === 3 && target.toLowerCase() === 'xml') {
      if (this.base + i !== 0) this.fail('An XML declaration is allowed only at the very start', i);
      if (!XML_DECL.test(s.slice(i, e + 2))) this.fail('Malformed XML declaration', i);
    }
    return e + 2;
  }
}
