import { FieldsimError, isFieldsimError } from '../../errors/fieldsim-error.ts';
import { NetworkError } from '../../errors/network-error.ts';
import { XmlError, type XmlPosition } from '../../errors/xml-error.ts';
import { readCaseBlock } from '../casexml/case-block-reader.ts';
import { NS } from '../namespaces.ts';
import { TOKEN_CLOSE, TOKEN_NONE, TOKEN_OPEN, XmlScanner } from '../xml-scanner.ts';
import { readBalance, readFixture, readRegistration, readSchema, readSync } from './restore-readers.ts';
import type { RestoreEvent, XmlNode } from './restore-types.ts';

/**
 * Streaming OTA restore parser (PROTOCOL.md 3.7-3.9).
 *
 *   bytes --TextDecoder(fatal)--> text --XmlScanner--> top-level element subtree --> RestoreEvent
 *
 * Only one top-level element (a case, a fixture...) is held as a tree at a time, so memory
 * stays flat whatever the payload size. Dispatch follows the phone
 * (core: org/commcare/core/parse/CommCareTransactionParserFactory.java): by element name,
 * case-insensitive, `sync` only in the sync namespace, ledger elements by namespace;
 * anything else at the top level is skipped.
 *
 * Hostile input: the scanner rejects any DOCTYPE, so no entity is ever defined or expanded
 * (billion laughs, external entities); it knows only the five predefined entities. A
 * single token (text or tag with its attributes) longer than `maxTokenChars` and nesting
 * deeper than `maxDepth` are errors, which bounds memory.
 */

export type RestoreBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

export interface RestoreParseOptions {
  signal?: AbortSignal;
  /** Events per yielded batch (default 2000). */
  batchSize?: number;
  /** Called after each input chunk with the total bytes (or string length) read so far. */
  onBytes?: (bytes: number) => void;
  /** Longest single text node or start tag, in characters (default 4 MiB). */
  maxTokenChars?: number;
  /** Deepest element nesting (default 128). */
  maxDepth?: number;
  /** Per-element limits on what is held in memory; see `RestoreLimits`. */
  limits?: Partial<RestoreLimits>;
}

/**
 * Bounds on one top-level element (a case, a fixture...), the only thing the parser holds
 * as a tree. With the token and depth limits they cap the parser's memory whatever the
 * input: one hostile `<case>` with 2 million empty properties took 1.15 GB before them.
 * Defaults stay far above anything HQ sends (a large lookup-table fixture has tens of
 * thousands of rows) and keep the worst case near 150 MB.
 */
export interface RestoreLimits {
  /** Child elements of any one element (default 100 000). */
  maxChildren: number;
  /** Elements inside one top-level element, itself included (default 250 000). */
  maxElements: number;
  /** Characters of one top-level element: its start tags (with attributes) and text (default 32 Mi). */
  maxElementChars: number;
  /** Attributes on any one element (default 256). */
  maxAttributes: number;
}

export const DEFAULT_RESTORE_LIMITS: RestoreLimits = {
  maxChildren: 100_000,
  maxElements: 250_000,
  maxElementChars: 32 * 1024 * 1024,
  maxAttributes: 256,
};

/**
 * Events are handed over once a batch holds this many characters of captured content,
 * whatever their count, so a run of large cases never piles up in one batch.
 */
const BATCH_CHARS = 8 * 1024 * 1024;

// Long strings are fed to the scanner in slices so batches stay near `batchSize`.
const SLICE = 64 * 1024;

/** A failure of the body itself (connection reset mid-download) is a network error. */
function bodyError(e: unknown): FieldsimError {
  if (isFieldsimError(e)) return e;
  const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name) : '';
  if (name === 'AbortError') return new NetworkError('aborted', 'The restore download was cancelled', e);
  const msg = e instanceof Error ? e.message : String(e);
  return new NetworkError('network-error', `The restore download failed: ${msg}`, e);
}

/**
 * Reads a ReadableStream or an async iterable as chunks, cancelling the stream on early
 * exit; a failure of the body is a typed `NetworkError`. Exported for hosts that parse in
 * another thread and feed it the body themselves (src/node-store/restore-parse-thread.ts).
 */
export async function* chunksOf(body: RestoreBody): AsyncGenerator<Uint8Array | string> {
  try {
    yield* rawChunksOf(body);
  } catch (e) {
    throw bodyError(e);
  }
}

async function* rawChunksOf(body: RestoreBody): AsyncGenerator<Uint8Array | string> {
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    let done = false;
    try {
      while (true) {
        const r = await reader.read();
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      if (!done) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  } else {
    yield* body as AsyncIterable<Uint8Array | string>;
  }
}

interface Capture {
  kind: 'case' | 'registration' | 'schema' | 'fixture' | 'sync' | 'ledger';
  where: XmlPosition;
  root: XmlNode;
  stack: XmlNode[];
  /** Elements and characters held so far (see RestoreLimits). */
  elements: number;
  chars: number;
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

function prefixOf(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? '' : qname.slice(0, i);
}

/** Attributes without namespace declarations, names without prefixes. */
function plainAttributes(attrs: Record<string, string>): Record<string, string> {
  // Most elements carry no prefixed or xmlns attribute: reuse the scanner's object then
  // (one allocation less per element, ~1.7 million per 100k cases).
  let plain = true;
  for (const k in attrs)
    if (k.includes(':') || k === 'xmlns') {
      plain = false;
      break;
    }
  if (plain) return attrs;
  const out: Record<string, string> = {};
  for (const k in attrs) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    out[localName(k)] = attrs[k] as string;
  }
  return out;
}

function abortError(signal: AbortSignal): FieldsimError {
  return new FieldsimError('aborted', 'The restore was cancelled', { cause: signal.reason });
}

/** Parses a restore payload, yielding events in document order, in batches. */
export async function* parseRestore(
  body: RestoreBody,
  options: RestoreParseOptions = {},
): AsyncGenerator<RestoreEvent[], void, undefined> {
  const batchSize = options.batchSize ?? 2000;
  const maxToken = options.maxTokenChars ?? 4 * 1024 * 1024;
  const maxDepth = options.maxDepth ?? 128;
  const limits: RestoreLimits = { ...DEFAULT_RESTORE_LIMITS, ...options.limits };
  const signal = options.signal;

  const scanner = new XmlScanner();
  let batch: RestoreEvent[] = [];
  let batchChars = 0;
  let depth = 0;
  let topIndex = 0;
  let rootSeen = false;
  let capture: Capture | null = null;
  let skipDepth = 0;
  let lastEventAt = 0;
  const rootNs: Record<string, string> = {};
  const indexedFixturesSeen = new Set<string>();

  const pos = (): XmlPosition => scanner.where();
  const fail = (message: string): never => {
    throw new XmlError('xml-malformed', message, pos());
  };

  const nsOf = (qname: string, attrs: Record<string, string>): string => {
    const p = prefixOf(qname);
    const own = p === '' ? attrs.xmlns : attrs[`xmlns:${p}`];
    if (own !== undefined) return own;
    return rootNs[p] ?? '';
  };

  const tooLarge = (c: Capture, what: string): never => {
    const id = c.root.attributes.case_id ?? c.root.attributes.id;
    const named = id === undefined ? `<${c.root.name}>` : `<${c.root.name}> ${id}`;
    const caseId = c.kind === 'case' ? c.root.attributes.case_id : undefined;
    throw new XmlError('xml-too-large', `${named} (${c.where.path}) ${what}`, {
      ...pos(),
      path: c.where.path ?? c.root.name,
      ...(caseId !== undefined ? { caseId } : {}),
    });
  };
  // Attributes are counted only on a long tag: each takes at least 4 characters (` a=""`),
  // so a short one cannot hold too many, and most elements skip the loop.
  const checkAttributes = (
    c: Capture,
    attrs: Record<string, string>,
    tagChars: number,
    name: string,
  ): void => {
    if (tagChars <= 4 * limits.maxAttributes) return;
    let count = 0;
    for (const _ in attrs) count++;
    if (count > limits.maxAttributes)
      tooLarge(c, `has an element <${name}> with ${count} attributes (at most ${limits.maxAttributes})`);
  };
  const addChars = (c: Capture, n: number): void => {
    c.chars += n;
    if (c.chars > limits.maxElementChars) tooLarge(c, `holds more than ${limits.maxElementChars} characters`);
  };

  const emitCapture = (c: Capture): void => {
    const where = c.where;
    batchChars += c.chars;
    switch (c.kind) {
      case 'case':
        batch.push({ kind: 'case', block: readCaseBlock(c.root, where) });
        break;
      case 'registration':
        batch.push({ kind: 'registration', registration: readRegistration(c.root, where) });
        break;
      case 'sync':
        batch.push({ kind: 'sync', restoreId: readSync(c.root, where) });
        break;
      case 'schema': {
        const schema = readSchema(c.root, where);
        // core: IndexedFixtureXmlParser.java: the schema must precede its fixture.
        if (indexedFixturesSeen.has(schema.id))
          throw new XmlError(
            'fixture-invalid',
            `Schema for fixture ${schema.id} appears after the fixture`,
            where,
          );
        batch.push({ kind: 'schema', schema });
        break;
      }
      case 'fixture': {
        const fixture = readFixture(c.root, where);
        if (fixture !== null) {
          indexedFixturesSeen.add(fixture.id);
          batch.push({ kind: 'fixture', fixture });
        } else if (c.root.attributes.indexed === 'true' && c.root.attributes.id !== undefined) {
          indexedFixturesSeen.add(c.root.attributes.id);
        }
        break;
      }
      case 'ledger':
        for (const balance of readBalance(c.root, where)) batch.push({ kind: 'ledger', balance });
        break;
    }
  };

  const openTag = (tagName: string, attrs: Record<string, string>): void => {
    // Characters since the previous event: the start tag with its attributes, which is
    // what this element adds to the captured tree (counted without walking attributes).
    const tagChars = scanner.position - lastEventAt;
    lastEventAt = scanner.position;
    depth++;
    if (depth > maxDepth) fail(`Elements are nested deeper than ${maxDepth} levels`);
    if (depth === 1) {
      rootSeen = true;
      for (const k in attrs) {
        if (k === 'xmlns') rootNs[''] = attrs[k] as string;
        else if (k.startsWith('xmlns:')) rootNs[k.slice(6)] = attrs[k] as string;
      }
      if (localName(tagName) !== 'OpenRosaResponse')
        throw new XmlError(
          'xml-invalid',
          `A restore's root element is <OpenRosaResponse>, not <${tagName}>`,
          pos(),
        );
      const items = attrs.items;
      if (items !== undefined) {
        const n = Number(items);
        if (Number.isInteger(n) && n >= 0) batch.push({ kind: 'items', count: n });
      }
      return;
    }
    if (capture !== null) {
      const name = localName(tagName);
      const parent = capture.stack[capture.stack.length - 1] as XmlNode;
      if (parent.children.length >= limits.maxChildren)
        tooLarge(capture, `has an element <${parent.name}> with more than ${limits.maxChildren} children`);
      if (++capture.elements > limits.maxElements)
        tooLarge(capture, `has more than ${limits.maxElements} elements`);
      checkAttributes(capture, attrs, tagChars, name);
      addChars(capture, tagChars);
      const node: XmlNode = { name, attributes: plainAttributes(attrs), children: [], text: '' };
      parent.children.push(node);
      capture.stack.push(node);
      return;
    }
    if (skipDepth > 0) {
      skipDepth++;
      return;
    }
    // depth === 2: a top-level element.
    topIndex++;
    const local = localName(tagName);
    const lower = local.toLowerCase();
    const ns = nsOf(tagName, attrs);
    let kind: Capture['kind'] | null = null;
    if (lower === 'case') kind = 'case';
    else if (lower === 'registration') kind = 'registration';
    else if (lower === 'schema') kind = 'schema';
    else if (lower === 'fixture') kind = 'fixture';
    else if (lower === 'sync' && ns === NS.sync) kind = 'sync';
    else if (ns === NS.ledger && lower === 'balance') kind = 'ledger';
    if (kind === null) {
      skipDepth = 1;
      return;
    }
    const root: XmlNode = { name: local, attributes: plainAttributes(attrs), children: [], text: '' };
    capture = {
      kind,
      where: { ...scanner.where(), path: `OpenRosaResponse/${local}[${topIndex}]` },
      root,
      stack: [root],
      elements: 1,
      chars: 0,
    };
    checkAttributes(capture, attrs, tagChars, local);
    addChars(capture, tagChars);
  };

  // Text and CDATA alike; the scanner reports text only inside the root element.
  const text = (t: string): void => {
    lastEventAt = scanner.position;
    if (capture !== null) {
      addChars(capture, t.length);
      const top = capture.stack[capture.stack.length - 1] as XmlNode;
      top.text += t;
    }
  };

  const closeTag = (): void => {
    lastEventAt = scanner.position;
    depth--;
    if (capture !== null) {
      capture.stack.pop();
      if (capture.stack.length === 0) {
        const c = capture;
        capture = null;
        emitCapture(c);
      }
      return;
    }
    if (skipDepth > 0) skipDepth--;
  };

  const asXmlError = (e: unknown): never => {
    if (e instanceof FieldsimError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new XmlError('xml-malformed', message, { ...pos(), cause: e });
  };
  const drain = (): void => {
    while (true) {
      const t = scanner.next();
      if (t === TOKEN_NONE) return;
      if (t === TOKEN_OPEN) openTag(scanner.name, scanner.attributes);
      else if (t === TOKEN_CLOSE) closeTag();
      else text(scanner.text);
    }
  };
  const write = (chunk: string | null): void => {
    try {
      if (chunk === null) scanner.finish();
      else scanner.push(chunk);
      drain();
    } catch (e) {
      asXmlError(e);
    }
  };

  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  let first = true;

  /**
   * Before the root element, everything up to the first start tag is dropped: text, and
   * with it the XML declaration and comments. kxml (the phone's parser) ignores text
   * outside the root element, so a restore saved from a browser with a line of text
   * above it still loads on the phone; fieldsim loads it too. The scanner would refuse it.
   */
  let preRoot = '';
  let rootStarted = false;
  const skipPreRoot = (t: string): string => {
    if (rootStarted) return t;
    const buf = preRoot + t;
    const m = /<[A-Za-z_:]/.exec(buf);
    // Dropping must not let a DOCTYPE (entity definitions) through unseen.
    if (/<!DOCTYPE/i.test(m ? buf.slice(0, m.index) : buf))
      fail('A DOCTYPE is not allowed in a restore (entity definitions are refused)');
    if (m) {
      rootStarted = true;
      preRoot = '';
      return buf.slice(m.index);
    }
    // The tail may be the start of `<!DOCTYPE` or of the root in the next chunk.
    preRoot = buf.slice(-9);
    return '';
  };

  const feed = function* (text: string): Generator<RestoreEvent[]> {
    let t = text;
    if (first && t.length > 0) {
      first = false;
      if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    }
    t = skipPreRoot(t);
    // Network chunks go to the scanner whole; only a very long string (a whole payload
    // held in memory) is cut, to keep batches small.
    const step = t.length > 4 * SLICE ? SLICE : t.length;
    for (let i = 0; i < t.length; i += step) {
      write(step === t.length ? t : t.slice(i, i + step));
      if (scanner.available - lastEventAt > maxToken)
        fail(`A single text node or tag is longer than ${maxToken} characters`);
      if (batch.length >= batchSize || batchChars >= BATCH_CHARS) {
        const out = batch;
        batch = [];
        batchChars = 0;
        yield out;
      }
    }
  };

  const decode = (chunk: Uint8Array | undefined): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (e) {
      throw new XmlError('xml-malformed', `The payload is not valid UTF-8 (near byte ${bytes})`, {
        cause: e,
      });
    }
  };

  for await (const chunk of chunksOf(body)) {
    if (signal?.aborted) throw abortError(signal);
    if (typeof chunk === 'string') {
      bytes += chunk.length;
      yield* feed(chunk);
    } else {
      bytes += chunk.byteLength;
      yield* feed(decode(chunk));
    }
    options.onBytes?.(bytes);
  }
  if (signal?.aborted) throw abortError(signal);
  yield* feed(decode(undefined));
  write(null);
  if (!rootSeen) throw new XmlError('xml-malformed', 'The payload has no root element', pos());
  try {
    scanner.end();
  } catch (e) {
    asXmlError(e);
  }
  if (batch.length > 0) yield batch;
}

/** Convenience for small payloads and tests: every event of a payload, in order. */
export async function parseRestoreAll(
  body: RestoreBody,
  options: RestoreParseOptions = {},
): Promise<RestoreEvent[]> {
  const all: RestoreEvent[] = [];
  for await (const b of parseRestore(body, options)) for (const e of b) all.push(e);
  return all;
}

/** An async iterable over one string, for callers holding the whole payload. */
export async function* fromString(text: string): AsyncGenerator<string> {
  yield text;
}
