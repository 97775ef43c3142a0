import { XFormError } from '../../errors/xform-error.ts';
import type { XPathNode } from '../tree/instance-node.ts';
import { formatDateForCalendar } from './format-date-for-calendar.ts';
import { geoDistance, parseGeopoint } from './geo-distance.ts';
import { verhoeffDigit } from './verhoeff.ts';
import type { XPathExpr } from './xpath-ast.ts';
import {
  dateFromDays,
  formatDate,
  fractionalDaysSinceEpoch,
  makeDate,
  parseDateString,
  roundToDate,
} from './xpath-dates.ts';
import type { XPathCallee, XPathEvalContext, XPathValue } from './xpath-types.ts';
import {
  isXPathDate,
  nodeValue,
  stringToNumber,
  toXPathBoolean,
  toXPathDouble,
  toXPathNumber,
  toXPathString,
} from './xpath-values.ts';

/**
 * The built-in function table: XPath 1.0's core library plus the JavaRosa/CommCare set
 * (commcare-core `org.javarosa.xpath.expr.FunctionUtils` lists them, one class per
 * function: `XPathIfFunc`, `XPathSelectedAtFunc`, ...). Each entry states its arity;
 * `compileXPath` checks it, so `if(true())` fails at load time as it does in JavaRosa.
 *
 * `eager` functions get their arguments evaluated; `lazy` ones (if, cond, coalesce,
 * and the context readers) evaluate what they need themselves.
 */
export interface BuiltinFunction {
  readonly min: number;
  readonly max: number;
  readonly eager?: (args: XPathValue[], ctx: XPathEvalContext, ev: XPathCallee) => XPathValue;
  readonly lazy?: (args: readonly XPathExpr[], ctx: XPathEvalContext, ev: XPathCallee) => XPathValue;
}

const MANY = Number.POSITIVE_INFINITY;

type Eager = NonNullable<BuiltinFunction['eager']>;

function arg(args: XPathValue[], i: number): XPathValue {
  return args[i] as XPathValue;
}

function str(args: XPathValue[], i: number): string {
  return toXPathString(args[i] as XPathValue);
}

function num(args: XPathValue[], i: number): number {
  return toXPathNumber(args[i] as XPathValue);
}

/** Every argument flattened: node-set arguments contribute each node (JavaRosa toArgList). */
function flatItems(args: XPathValue[]): XPathValue[] {
  const out: XPathValue[] = [];
  for (const a of args) {
    if (Array.isArray(a)) for (const n of a) out.push(nodeValue(n));
    else out.push(a);
  }
  return out;
}

/** A space-separated list, as multi-select answers are stored (JavaRosa DataUtil.splitOnSpaces). */
function splitList(s: string): string[] {
  const t = s.trim();
  return t === '' ? [] : t.split(/\s+/);
}

/** A sequence argument: a node-set's values, or a space-separated list. */
function sequence(v: XPathValue): string[] {
  return Array.isArray(v) ? v.map(nodeValue) : splitList(toXPathString(v));
}

function nodeSetArg(v: XPathValue, fn: string): XPathNode[] {
  if (!Array.isArray(v))
    throw new Error(`${fn}() needs a node-set argument, not ${JSON.stringify(toXPathString(v))}`);
  return v;
}

function truncate(n: number): number {
  if (!Number.isFinite(n)) return n;
  return Math.trunc(n);
}

/** JavaRosa `FunctionUtils.toDate`: '' and NaN pass through, other values must be dates. */
function toDateValue(v: XPathValue): XPathValue {
  if (isXPathDate(v)) return roundToDate(v.ms);
  let x: XPathValue = v;
  if (Array.isArray(x)) x = x[0] === undefined ? '' : nodeValue(x[0]);
  if (typeof x === 'number') {
    if (Number.isNaN(x)) return x;
    if (!Number.isFinite(x) || Math.abs(x) > 2_147_483_647)
      throw new Error('converting an out-of-range number to a date');
    return dateFromDays(truncate(x));
  }
  if (typeof x === 'string') {
    if (x === '') return '';
    const d = parseDateString(x.trim());
    if (d === undefined) throw new Error(`"${x}" is not a date`);
    return d;
  }
  throw new Error(`cannot convert ${typeof x} to a date`);
}

function contextNodes(
  args: readonly XPathExpr[],
  ctx: XPathEvalContext,
  ev: XPathCallee,
  fn: string,
): XPathNode[] {
  if (args.length === 0) return [ctx.node];
  return ev.nodes(ev.evaluate(args[0] as XPathExpr, ctx), `${fn}() argument`);
}

function contextString(args: readonly XPathExpr[], ctx: XPathEvalContext, ev: XPathCallee): string {
  return args.length === 0 ? nodeValue(ctx.node) : toXPathString(ev.evaluate(args[0] as XPathExpr, ctx));
}

function math1(f: (x: number) => number): BuiltinFunction {
  return { min: 1, max: 1, eager: (a) => f(num(a, 0)) };
}

function regexOf(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    try {
      return new RegExp(pattern);
    } catch (e) {
      throw new Error(
        `invalid regular expression "${pattern}": ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}

function minMax(args: XPathValue[], pick: (a: number, b: number) => number): number {
  const values = flatItems(args);
  if (values.length === 0) return Number.NaN;
  let best = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const n = toXPathNumber(values[i] as XPathValue);
    if (Number.isNaN(n)) return Number.NaN;
    best = i === 0 ? n : pick(best, n);
  }
  return best;
}

const formatDateFn: Eager = (a) => {
  // A date value keeps its time of day (JavaRosa expandDateSafe); strings are parsed.
  const v = arg(a, 0);
  const d = isXPathDate(v) ? v : toDateValue(v);
  if (!isXPathDate(d)) return '';
  return formatDate(d.ms, str(a, 1));
};

/**
 * `format-date-for-calendar(date, calendar[, format])` (commcare-core
 * `XPathFormatDateForCalendarFunc`): an empty date gives ''; the calendar is compared as a
 * string ('ethiopian' or 'nepali').
 */
const formatDateForCalendarFn: Eager = (a) => {
  const v = arg(a, 0);
  const d = isXPathDate(v) ? v : toDateValue(v);
  if (!isXPathDate(d)) return '';
  return formatDateForCalendar(d.ms, str(a, 1), a.length > 2 ? str(a, 2) : undefined);
};

/** `sort-by` and `sort`: stable sort by key strings; descending is the reverse of ascending. */
function sortBy(values: string[], keys: string[], ascending: boolean): string {
  if (values.length !== keys.length) {
    throw new Error(`sort-by() lists differ in length (${values.length} and ${keys.length})`);
  }
  const order = values.map((_, i) => i);
  order.sort((x, y) => {
    const kx = keys[x] as string;
    const ky = keys[y] as string;
    return kx < ky ? -1 : kx > ky ? 1 : x - y;
  });
  if (!ascending) order.reverse();
  return order.map((i) => values[i]).join(' ');
}

const ALPHANUMERIC = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * `id-compress(value, growth, lead, body, bodyLength)` (commcare-core
 * `XPathIdCompressFunc`): the value written as `bodyLength` digits over the body
 * alphabet, one digit over the lead alphabet, then as many growth-alphabet digits as
 * the rest needs, most significant first.
 */
function idCompress(value: number, growth: string, lead: string, body: string, bodyLength: number): string {
  if (growth === '' || lead === '' || body === '')
    throw new Error('id-compress() alphabets must not be empty');
  for (const c of growth)
    if (lead.includes(c)) throw new Error(`id-compress() growth and lead alphabets share "${c}"`);
  let rest = Math.trunc(value);
  let out = '';
  for (let i = 0; i < bodyLength; i++) {
    out = (body[rest % body.length] as string) + out;
    rest = Math.floor(rest / body.length);
  }
  out = (lead[rest % lead.length] as string) + out;
  rest = Math.floor(rest / lead.length);
  while (rest > 0) {
    out = (growth[rest % growth.length] as string) + out;
    rest = Math.floor(rest / growth.length);
  }
  return out;
}

function jsonProperty(json: string, prop: string): string {
  if (json === '') return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return '';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return '';
  const v = (parsed as Record<string, unknown>)[prop];
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

const entries: [string, BuiltinFunction][] = [
  /* ---- logic ---- */
  ['true', { min: 0, max: 0, eager: () => true }],
  ['false', { min: 0, max: 0, eager: () => false }],
  ['not', { min: 1, max: 1, eager: (a) => !toXPathBoolean(arg(a, 0)) }],
  ['boolean', { min: 1, max: 1, eager: (a) => toXPathBoolean(arg(a, 0)) }],
  [
    'boolean-from-string',
    {
      min: 1,
      max: 1,
      eager: (a) => {
        const s = str(a, 0);
        return s === 'true' || s === '1';
      },
    },
  ],
  [
    'if',
    {
      min: 3,
      max: 3,
      lazy: (args, ctx, ev) =>
        ev.evaluate(args[toXPathBoolean(ev.evaluate(args[0] as XPathExpr, ctx)) ? 1 : 2] as XPathExpr, ctx),
    },
  ],
  [
    'cond',
    {
      // cond(test1, value1, test2, value2, ..., default): commcare-core XPathCondFunc.
      min: 3,
      max: MANY,
      lazy: (args, ctx, ev) => {
        if (args.length % 2 === 0)
          throw new Error('cond() needs an odd number of arguments: pairs and a default');
        for (let i = 0; i + 1 < args.length; i += 2) {
          if (toXPathBoolean(ev.evaluate(args[i] as XPathExpr, ctx)))
            return ev.evaluate(args[i + 1] as XPathExpr, ctx);
        }
        return ev.evaluate(args[args.length - 1] as XPathExpr, ctx);
      },
    },
  ],
  [
    'coalesce',
    {
      // The first argument that is neither '' nor NaN, else the last one as it is
      // (commcare-core XpathCoalesceFunc).
      min: 1,
      max: MANY,
      lazy: (args, ctx, ev) => {
        for (let i = 0; i < args.length - 1; i++) {
          let v = ev.evaluate(args[i] as XPathExpr, ctx);
          if (Array.isArray(v)) v = toXPathString(v);
          if (v !== '' && !(typeof v === 'number' && Number.isNaN(v))) return v;
        }
        return ev.evaluate(args[args.length - 1] as XPathExpr, ctx);
      },
    },
  ],
  ['depend', { min: 1, max: MANY, eager: (a) => arg(a, 0) }],
  [
    'checklist',
    {
      // checklist(min, max, v...): how many values are true lies in [min, max]; -1 = no bound.
      min: 2,
      max: MANY,
      eager: (a) => {
        const lo = num(a, 0);
        const hi = num(a, 1);
        let count = 0;
        for (const v of flatItems(a.slice(2))) if (toXPathBoolean(v)) count++;
        return (lo < 0 || count >= lo) && (hi < 0 || count <= hi);
      },
    },
  ],
  [
    'weighted-checklist',
    {
      // weighted-checklist(min, max, v1, w1, v2, w2, ...): sum of weights of true values.
      min: 2,
      max: MANY,
      eager: (a) => {
        if (a.length % 2 !== 0) throw new Error('weighted-checklist() needs value and weight pairs');
        const lo = num(a, 0);
        const hi = num(a, 1);
        let sum = 0;
        for (let i = 2; i + 1 < a.length; i += 2) if (toXPathBoolean(arg(a, i))) sum += num(a, i + 1);
        return (lo < 0 || sum >= lo) && (hi < 0 || sum <= hi);
      },
    },
  ],

  /* ---- strings ---- */
  ['string', { min: 0, max: 1, lazy: (args, ctx, ev) => contextString(args, ctx, ev) }],
  ['concat', { min: 0, max: MANY, eager: (a) => flatItems(a).map(toXPathString).join('') }],
  [
    'join',
    {
      min: 1,
      max: MANY,
      eager: (a) => flatItems(a.slice(1)).map(toXPathString).join(str(a, 0)),
    },
  ],
  [
    'join-chunked',
    {
      // join-chunked(sep, size, v...): all values run together, cut every `size` characters.
      min: 3,
      max: MANY,
      eager: (a) => {
        const sep = str(a, 0);
        const size = truncate(num(a, 1));
        if (!(size > 0)) throw new Error('join-chunked() chunk size must be positive');
        const all = flatItems(a.slice(2)).map(toXPathString).join('');
        const chunks: string[] = [];
        for (let i = 0; i < all.length; i += size) chunks.push(all.slice(i, i + size));
        return chunks.join(sep);
      },
    },
  ],
  [
    'substr',
    {
      // commcare-core XPathSubstrFunc: 0-based start and exclusive end, negatives count
      // from the end, out of range gives ''.
      min: 2,
      max: 3,
      eager: (a) => {
        const s = str(a, 0);
        if (s === '') return '';
        const len = s.length;
        let start = truncate(num(a, 1));
        let end = a.length === 3 ? truncate(num(a, 2)) : len;
        if (start < 0) start = len + start;
        if (end < 0) end = len + end;
        start = Math.min(Math.max(0, start), end);
        end = Math.max(0, end);
        return start <= end && end <= len ? s.slice(start, end) : '';
      },
    },
  ],
  [
    'substring',
    {
      // XPath 1.0 substring(): 1-based, rounded positions.
      min: 2,
      max: 3,
      eager: (a) => {
        const s = str(a, 0);
        const start = Math.round(num(a, 1));
        const end = a.length === 3 ? start + Math.round(num(a, 2)) : Number.POSITIVE_INFINITY;
        let out = '';
        for (let i = 0; i < s.length; i++) {
          const p = i + 1;
          if (p >= start && p < end) out += s[i];
        }
        return out;
      },
    },
  ],
  [
    'substring-before',
    {
      min: 2,
      max: 2,
      eager: (a) => {
        const s = str(a, 0);
        const i = s.indexOf(str(a, 1));
        return i < 0 ? '' : s.slice(0, i);
      },
    },
  ],
  [
    'substring-after',
    {
      min: 2,
      max: 2,
      eager: (a) => {
        const s = str(a, 0);
        const t = str(a, 1);
        const i = s.indexOf(t);
        return i < 0 ? '' : s.slice(i + t.length);
      },
    },
  ],
  ['string-length', { min: 0, max: 1, lazy: (args, ctx, ev) => contextString(args, ctx, ev).length }],
  [
    'normalize-space',
    { min: 0, max: 1, lazy: (args, ctx, ev) => contextString(args, ctx, ev).trim().replace(/\s+/g, ' ') },
  ],
  ['contains', { min: 2, max: 2, eager: (a) => str(a, 0).includes(str(a, 1)) }],
  ['starts-with', { min: 2, max: 2, eager: (a) => str(a, 0).startsWith(str(a, 1)) }],
  ['ends-with', { min: 2, max: 2, eager: (a) => str(a, 0).endsWith(str(a, 1)) }],
  [
    'translate',
    {
      min: 3,
      max: 3,
      eager: (a) => {
        const from = str(a, 1);
        const to = str(a, 2);
        let out = '';
        for (const c of str(a, 0)) {
          const i = from.indexOf(c);
          if (i < 0) out += c;
          else if (i < to.length) out += to[i];
        }
        return out;
      },
    },
  ],
  ['lower-case', { min: 1, max: 1, eager: (a) => str(a, 0).toLowerCase() }],
  ['upper-case', { min: 1, max: 1, eager: (a) => str(a, 0).toUpperCase() }],
  [
    'replace',
    {
      // The replacement is literal: commcare-core's test keeps `$1` as written.
      min: 3,
      max: 3,
      eager: (a) => {
        const re = regexOf(str(a, 1));
        const withG = new RegExp(re.source, `${re.flags}g`);
        const replacement = str(a, 2);
        return str(a, 0).replace(withG, () => replacement);
      },
    },
  ],
  // A match anywhere in the string, as Java's Matcher.find() (commcare-core XPathRegexFunc).
  ['regex', { min: 2, max: 2, eager: (a) => regexOf(str(a, 1)).test(str(a, 0)) }],

  /* ---- multi-select lists ---- */
  ['selected', { min: 2, max: 2, eager: (a) => splitList(str(a, 0)).includes(str(a, 1).trim()) }],
  ['is-selected', { min: 2, max: 2, eager: (a) => splitList(str(a, 0)).includes(str(a, 1).trim()) }],
  ['count-selected', { min: 1, max: 1, eager: (a) => splitList(str(a, 0)).length }],
  [
    'selected-at',
    {
      min: 2,
      max: 2,
      eager: (a) => {
        const list = splitList(str(a, 0));
        // commcare-core XPathSelectedAtFunc takes `toInt(index).intValue()`: Java turns a
        // NaN double into int 0, so an empty or non-numeric index selects the first item.
        const raw = truncate(num(a, 1));
        const i = Number.isNaN(raw) ? 0 : raw;
        const v = list[i];
        if (v === undefined) throw new Error(`selected-at() index ${i} is outside a list of ${list.length}`);
        return v;
      },
    },
  ],
  [
    'sort',
    {
      min: 1,
      max: 2,
      eager: (a) => {
        const values = sequence(arg(a, 0));
        return sortBy(values, values, a.length < 2 || toXPathBoolean(arg(a, 1)));
      },
    },
  ],
  [
    'sort-by',
    {
      min: 2,
      max: 3,
      eager: (a) =>
        sortBy(sequence(arg(a, 0)), sequence(arg(a, 1)), a.length < 3 || toXPathBoolean(arg(a, 2))),
    },
  ],
  [
    'distinct-values',
    {
      // Returns a space-separated list (fieldsim has no sequence type).
      min: 1,
      max: 1,
      eager: (a) => [...new Set(sequence(arg(a, 0)))].join(' '),
    },
  ],
  [
    'index-of',
    {
      // 0-based position of the item in the sequence, '' when absent (XPathIndexOfFunc).
      min: 2,
      max: 2,
      eager: (a) => {
        const i = sequence(arg(a, 0)).indexOf(str(a, 1));
        return i < 0 ? '' : i;
      },
    },
  ],

  /* ---- node-sets ---- */
  ['count', { min: 1, max: 1, eager: (a) => nodeSetArg(arg(a, 0), 'count').length }],
  [
    'count-non-empty',
    {
      min: 1,
      max: 1,
      eager: (a) => nodeSetArg(arg(a, 0), 'count-non-empty').filter((n) => nodeValue(n) !== '').length,
    },
  ],
  [
    'sum',
    {
      min: 1,
      max: 1,
      eager: (a) => {
        let total = 0;
        for (const n of nodeSetArg(arg(a, 0), 'sum')) total += stringToNumber(nodeValue(n));
        return total;
      },
    },
  ],
  ['max', { min: 1, max: MANY, eager: (a) => minMax(a, Math.max) }],
  ['min', { min: 1, max: MANY, eager: (a) => minMax(a, Math.min) }],
  [
    'position',
    {
      // position(ref): the 1-based index of the node among its same-named siblings, as
      // JavaRosa's XPathPositionFunc reads it from the reference's multiplicity.
      min: 0,
      max: 1,
      lazy: (args, ctx, ev) => {
        if (args.length === 0) return ctx.position;
        const n = ev.nodes(ev.evaluate(args[0] as XPathExpr, ctx), 'position() argument')[0];
        if (n === undefined) throw new Error('position() of an empty node-set');
        if (n.kind === 'attribute' || n.parent === null) return 1;
        let i = 1;
        for (const s of n.parent.children) {
          if (s === n) break;
          if (s.name === n.name) i++;
        }
        return i;
      },
    },
  ],
  ['last', { min: 0, max: 0, lazy: (_a, ctx) => ctx.size }],
  [
    'name',
    {
      min: 0,
      max: 1,
      lazy: (args, ctx, ev) => {
        const n = contextNodes(args, ctx, ev, 'name')[0];
        if (n === undefined || (n.kind !== 'attribute' && n.kind === 'document')) return '';
        return n.prefix === '' ? n.name : `${n.prefix}:${n.name}`;
      },
    },
  ],
  [
    'local-name',
    {
      min: 0,
      max: 1,
      lazy: (args, ctx, ev) => {
        const n = contextNodes(args, ctx, ev, 'local-name')[0];
        if (n === undefined || (n.kind !== 'attribute' && n.kind === 'document')) return '';
        return n.name;
      },
    },
  ],
  ['current', { min: 0, max: 0, lazy: (_a, ctx) => [ctx.current ?? ctx.node] }],
  [
    'instance',
    {
      min: 1,
      max: 1,
      eager: (a, ctx, ev) => {
        const id = str(a, 0);
        const doc = ctx.env.instance(id);
        if (doc === undefined) {
          throw new XFormError(
            'instance-missing',
            `No instance "${id}" for instance('${id}') in XPath "${ev.source}"`,
            {
              ref: id,
              expression: ev.source,
            },
          );
        }
        return [doc];
      },
    },
  ],

  /* ---- numbers ---- */
  [
    'number',
    {
      min: 0,
      max: 1,
      lazy: (args, ctx, ev) =>
        args.length === 0
          ? stringToNumber(nodeValue(ctx.node))
          : toXPathNumber(ev.evaluate(args[0] as XPathExpr, ctx)),
    },
  ],
  ['double', { min: 1, max: 1, eager: (a) => toXPathDouble(arg(a, 0)) }],
  ['int', { min: 1, max: 1, eager: (a) => truncate(num(a, 0)) }],
  // JavaRosa rounds half up: round(-1.5) is -1 (XPathRoundFunc).
  ['round', { min: 1, max: 1, eager: (a) => Math.floor(num(a, 0) + 0.5) }],
  ['floor', math1(Math.floor)],
  ['ceiling', math1(Math.ceil)],
  ['abs', math1(Math.abs)],
  ['sqrt', math1(Math.sqrt)],
  ['exp', math1(Math.exp)],
  ['log', math1(Math.log)],
  ['ln', math1(Math.log)],
  ['log10', math1(Math.log10)],
  ['sin', math1(Math.sin)],
  ['cos', math1(Math.cos)],
  ['tan', math1(Math.tan)],
  ['asin', math1(Math.asin)],
  ['acos', math1(Math.acos)],
  ['atan', math1(Math.atan)],
  ['atan2', { min: 2, max: 2, eager: (a) => Math.atan2(num(a, 0), num(a, 1)) }],
  ['pow', { min: 2, max: 2, eager: (a) => num(a, 0) ** num(a, 1) }],
  ['pi', { min: 0, max: 0, eager: () => Math.PI }],
  ['random', { min: 0, max: 0, lazy: (_a, ctx) => ctx.env.random() }],
  [
    'uuid',
    {
      // uuid(): a v4 UUID; uuid(n): n random alphanumeric characters (XPathUuidFunc).
      min: 0,
      max: 1,
      eager: (a, ctx) => {
        if (a.length === 0) return ctx.env.uuid();
        const len = truncate(num(a, 0));
        let out = '';
        for (let i = 0; i < len; i++) out += ALPHANUMERIC[Math.floor(ctx.env.random() * ALPHANUMERIC.length)];
        return out;
      },
    },
  ],
  [
    'distance',
    {
      // -1 when either point is empty (XPathDistanceFunc).
      min: 2,
      max: 2,
      eager: (a) => {
        const from = str(a, 0);
        const to = str(a, 1);
        if (from === '' || to === '') return -1;
        const p = parseGeopoint(from);
        const q = parseGeopoint(to);
        if (p === undefined || q === undefined)
          throw new Error(`"${p === undefined ? from : to}" is not a geopoint`);
        return geoDistance(p, q);
      },
    },
  ],
  [
    'checksum',
    {
      min: 2,
      max: 2,
      eager: (a) => {
        const scheme = str(a, 0);
        if (scheme !== 'verhoeff') throw new Error(`checksum() scheme "${scheme}" is not supported`);
        const digit = verhoeffDigit(str(a, 1));
        if (digit === undefined) throw new Error(`checksum() input "${str(a, 1)}" is not all digits`);
        return String(digit);
      },
    },
  ],
  [
    'id-compress',
    {
      min: 5,
      max: 5,
      eager: (a) => idCompress(num(a, 0), str(a, 1), str(a, 2), str(a, 3), truncate(num(a, 4))),
    },
  ],
  ['json-property', { min: 2, max: 2, eager: (a) => jsonProperty(str(a, 0), str(a, 1)) }],

  /* ---- dates ---- */
  ['today', { min: 0, max: 0, lazy: (_a, ctx) => roundToDate(ctx.env.now().getTime()) }],
  ['now', { min: 0, max: 0, lazy: (_a, ctx) => makeDate(ctx.env.now().getTime(), true) }],
  ['date', { min: 1, max: 1, eager: (a) => toDateValue(arg(a, 0)) }],
  [
    'date-time',
    {
      // ODK's date-time(): like date(), but a number keeps its fraction as time of day.
      min: 1,
      max: 1,
      eager: (a) => {
        const v = arg(a, 0);
        if (typeof v === 'number') {
          if (Number.isNaN(v)) return v;
          const day = dateFromDays(Math.floor(v));
          const d = new Date(day.ms);
          d.setMilliseconds(Math.round((v - Math.floor(v)) * 86_400_000));
          return makeDate(d.getTime(), true);
        }
        const d = toDateValue(v);
        return isXPathDate(d) ? makeDate(d.ms, true) : d;
      },
    },
  ],
  [
    'decimal-date-time',
    {
      min: 1,
      max: 1,
      eager: (a) => {
        const v = arg(a, 0);
        if (isXPathDate(v)) return fractionalDaysSinceEpoch(v.ms);
        const s = toXPathString(v);
        if (s === '') return Number.NaN;
        const d = parseDateString(s.trim());
        return d === undefined ? toXPathNumber(v) : fractionalDaysSinceEpoch(d.ms);
      },
    },
  ],
  [
    'decimal-time',
    {
      // ODK's decimal-time('HH:MM[:SS]'): the fraction of a day.
      min: 1,
      max: 1,
      eager: (a) => {
        const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?/.exec(str(a, 0).trim());
        if (m === null) return Number.NaN;
        const secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
        return secs / 86_400;
      },
    },
  ],
  ['format-date', { min: 2, max: 2, eager: formatDateFn }],
  ['format_date', { min: 2, max: 2, eager: formatDateFn }],
  ['format-date-for-calendar', { min: 2, max: 3, eager: formatDateForCalendarFn }],
];

export const BUILTIN_FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = new Map(entries);
