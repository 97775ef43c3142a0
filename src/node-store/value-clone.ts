import { deserialize, serialize } from 'node:v8';
import { IdbLikeError } from './idb-errors.ts';

/**
 * The copy the in-memory store (memory-dbcore.ts) keeps of a stored value, and the copy it
 * hands out on each read: IndexedDB's rule that a stored value is the caller's no more (a
 * structured clone on the way in and on the way out), without encoding to bytes. Strings
 * are immutable in JS, so a clone shares them instead of copying their characters: a case
 * page or an outbox row (mostly strings: JSON of cases, the form's XML) costs the objects
 * and arrays around them, where V8's serializer wrote and re-read every character
 * (bench/RESULTS.md, session 8: ~4-5% of the runner's CPU went to serialize/deserialize).
 *
 * Plain objects, arrays, dates, binary data, Maps and Sets are cloned here; anything else
 * (class instances, RegExps, errors, sparse or decorated arrays) falls back to V8's
 * structured clone for the whole value, so the rules stay the platform's: a function or a
 * symbol is a DataCloneError. Two differences from a structured clone, neither seen by the
 * core's rows: an object reached twice is cloned twice (no shared identity), and a value
 * deeper than MAX_DEPTH (or cyclic) takes the V8 path.
 */

const MAX_DEPTH = 64;

/** Thrown inside `copy` to hand the whole value to V8's serializer. */
const FALL_BACK = Symbol('fall back to v8');

function copy(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'function' || typeof v === 'symbol') throw FALL_BACK;
    return v;
  }
  if (depth > MAX_DEPTH) throw FALL_BACK;
  const proto = Object.getPrototypeOf(v);
  if (proto === Array.prototype) {
    const a = v as unknown[];
    const out = new Array<unknown>(a.length);
    for (let i = 0; i < a.length; i++) {
      if (!(i in a)) throw FALL_BACK;
      out[i] = copy(a[i], depth + 1);
    }
    // Extra own properties on an array (or a non-index key): V8 keeps them; so do we, there.
    if (Object.keys(a).length !== a.length) throw FALL_BACK;
    return out;
  }
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    for (const k of Object.keys(v)) out[k] = copy((v as Record<string, unknown>)[k], depth + 1);
    return out;
  }
  if (v instanceof ArrayBuffer) return v.slice(0);
  if (ArrayBuffer.isView(v)) {
    // A view keeps its type and its own bytes only (structured clone copies the whole
    // buffer; nothing stored here shares one).
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
    if (v instanceof DataView) return new DataView(bytes.buffer);
    if (Buffer.isBuffer(v)) return Buffer.from(bytes.buffer, 0, bytes.byteLength);
    const Ctor = (v as unknown as { constructor: new (b: ArrayBuffer) => unknown }).constructor;
    return new Ctor(bytes.buffer);
  }
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, x] of v) out.set(copy(k, depth + 1), copy(x, depth + 1));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set<unknown>();
    for (const x of v) out.add(copy(x, depth + 1));
    return out;
  }
  throw FALL_BACK;
}

/** A private copy of `v` (see above); a value that cannot be cloned is a DataCloneError. */
export function cloneValue(v: unknown): unknown {
  try {
    return copy(v, 0);
  } catch (e) {
    if (e !== FALL_BACK) throw e;
  }
  try {
    return deserialize(serialize(v));
  } catch (e) {
    throw new IdbLikeError('DataCloneError', `The value cannot be stored: ${(e as Error).message}`, e);
  }
}
