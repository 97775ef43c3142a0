import type { XPathNode } from '../tree/instance-node.ts';
import {
  daysSinceEpoch,
  formatIsoDate,
  formatIsoDateTime,
  fractionalDaysSinceEpoch,
  isXPathDate,
  parseDateString,
} from './xpath-dates.ts';
import type { XPathValue } from './xpath-types.ts';

/**
 * XPath 1.0 type conversions (XPath 1.0 section 4) with JavaRosa's deviations, from
 * commcare-core `org.javarosa.xpath.expr.FunctionUtils` (toString, toNumeric, toBoolean):
 *
 * - A node-set of one node is that node's value; an empty node-set is the empty string
 *   (JavaRosa `XPathNodeset.unpack`), so `boolean(/data/q)` is false for an empty answer
 *   and `/data/missing = ''` is true. A node-set of several nodes follows XPath 1.0 (first
 *   node for strings and numbers, `true` for booleans) where JavaRosa throws.
 * - Strings become numbers only if they hold nothing but digits, `-` and `.` after
 *   trimming (no exponent, no `Infinity`); a `YYYY-MM-DD` string becomes its day number.
 *   The empty string is NaN.
 * - A date is days since 1970-01-01 as a number, always true as a boolean, and
 *   `YYYY-MM-DD` (date-time: ISO 8601 with the local offset) as a string.
 * - Numbers print as integers when within 1e-12 of one, never in exponent form.
 */

export function nodeValue(n: XPathNode): string {
  return n.kind === 'attribute' || n.children.length === 0 ? n.value : n.stringValue();
}

export function numberToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (Math.abs(d) < 1e-12) return '0';
  if (!Number.isFinite(d)) return d < 0 ? '-Infinity' : 'Infinity';
  const t = Math.trunc(d);
  if (Math.abs(d - t) < 1e-12) {
    return Math.abs(t) < 1e21 ? String(t) : BigInt(t).toString();
  }
  const s = String(d);
  if (!s.includes('e')) return s;
  // Tiny fractions: write them out instead of JS's exponent form.
  return d.toFixed(20).replace(/0+$/, '');
}

const NUMERIC_CHARS = /^[-.0-9]*$/;
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)$/;

export function stringToNumber(raw: string): number {
  const s = raw.trim();
  if (s === '' || !NUMERIC_CHARS.test(s)) return Number.NaN;
  if (DECIMAL.test(s)) return Number(s);
  const d = parseDateString(s);
  return d === undefined ? Number.NaN : daysSinceEpoch(d.ms);
}

/** The single value a node-set stands for (JavaRosa's unpack, lenient for several nodes). */
function unpackNodes(v: XPathNode[]): string {
  const first = v[0];
  return first === undefined ? '' : nodeValue(first);
}

export function toXPathString(v: XPathValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numberToString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return unpackNodes(v);
  return v.time ? formatIsoDateTime(v.ms) : formatIsoDate(v.ms);
}

export function toXPathNumber(v: XPathValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return stringToNumber(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) return stringToNumber(unpackNodes(v));
  return daysSinceEpoch(v.ms);
}

/** `double()`: like number, but a date-time keeps its time of day as a fraction. */
export function toXPathDouble(v: XPathValue): number {
  if (isXPathDate(v)) return fractionalDaysSinceEpoch(v.ms);
  return toXPathNumber(v);
}

export function toXPathBoolean(v: XPathValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Math.abs(v) > 1e-12 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 1 || unpackNodes(v).length > 0;
  return true;
}

export { isXPathDate };
