import { isErrorCode } from '../errors/codes.ts';
import { FieldsimError } from '../errors/fieldsim-error.ts';
import { XmlError } from '../errors/xml-error.ts';
import { applyCaseBlock } from '../protocol/casexml/apply-case-block.ts';
import type { CaseBlock, CaseIndex, CaseRecord } from '../protocol/casexml/case-types.ts';
import {
  parseRestore,
  type RestoreBody,
  type RestoreParseOptions,
} from '../protocol/restore/restore-parser.ts';
import type { AppliedCase, CaseSummaryTuple, RestoreEvent } from '../protocol/restore/restore-types.ts';

/**
 * A full restore's parser output as it crosses from a parse thread to the thread that
 * writes (issue 15; the browser's restore worker pair, docs/pwa.md "Restore over two
 * workers"). Environment-free: the same encoding serves a Web Worker pair and Node's
 * worker_threads (src/node-store/restore-parse-worker.ts, which adds packed pages).
 *
 * Case data, nearly every event of a restore, travels as flat strings: a string crosses
 * threads as one copy of its bytes, where the object graph of thousands of blocks would
 * be structured-cloned field by field on both sides (session 7: ~40% of the parse).
 * `order` has one letter per event, in document order: `a` the next applied case
 * (`records` holds their stored JSON joined by newlines, which JSON.stringify never leaves
 * raw; `summaries` their summaries, see `SUMMARY_SEP`), `b` the next raw block of
 * `blocks` (a JSON array), `o` the next of `other` (the few sync, registration, fixture
 * and ledger events, cloned as they are).
 */
export interface WireBatch {
  order: string;
  blocks: string;
  records: string;
  summaries: string;
  other: RestoreEvent[];
  /** Bytes of the body read when the batch was sent (progress). */
  bytes: number;
}

/**
 * Summaries travel as fields joined by control characters, not as JSON: JSON.stringify of
 * each summary cost the parse thread (the restore's bound) 3-10x what joining the same
 * strings does (100k summaries: 0.3-0.5 s against 0.04-0.16 s, Node, load ~6, session 9).
 * XML 1.0 allows none of U+0001-U+0003 in a document, raw or as a reference, so they
 * cannot occur in a case's values; a case whose values hold one anyway (a lenient parser
 * upstream) is sent as a raw block instead. One summary: id, type, name, owner, closed
 * (`0`/`1`), last modified, then per index its identifier, case type, target and
 * relationship (joined by `INDEX_SEP`), each field after `FIELD_SEP`; summaries are
 * joined by `SUMMARY_SEP`.
 */
const FIELD_SEP = '\u0001';
const INDEX_SEP = '\u0002';
const SUMMARY_SEP = '\u0003';
function holdsSeparator(v: string): boolean {
  return v.includes(FIELD_SEP) || v.includes(INDEX_SEP) || v.includes(SUMMARY_SEP);
}

function encodeSummary(r: CaseRecord): string | undefined {
  let values = r.caseId + r.caseType + r.caseName + r.ownerId + r.lastModified;
  let s = `${r.caseId}${FIELD_SEP}${r.caseType}${FIELD_SEP}${r.caseName}${FIELD_SEP}${r.ownerId}${FIELD_SEP}${r.closed ? 1 : 0}${FIELD_SEP}${r.lastModified}`;
  for (const ix of r.indices) {
    values += ix.identifier + ix.caseType + ix.caseId + ix.relationship;
    s += `${FIELD_SEP}${ix.identifier}${INDEX_SEP}${ix.caseType}${INDEX_SEP}${ix.caseId}${INDEX_SEP}${ix.relationship}`;
  }
  return holdsSeparator(values) ? undefined : s;
}

/** A case's catalog summary as stored. */
export function summaryOf(r: CaseRecord): CaseSummaryTuple {
  return [r.caseId, r.caseType, r.caseName, r.ownerId, r.closed ? 1 : 0, r.lastModified, r.indices];
}

function decodeJsonSummaries(text: string, count: number): CaseSummaryTuple[] {
  let out: unknown;
  try {
    out = JSON.parse(text);
  } catch (e) {
    throw new RestorePipeError('The restore parser sent an unreadable batch', e);
  }
  if (!Array.isArray(out) || out.length !== count)
    throw new RestorePipeError('The restore parser sent an inconsistent batch');
  return out as CaseSummaryTuple[];
}

function decodeSummaries(text: string, count: number): CaseSummaryTuple[] {
  if (count === 0) {
    if (text !== '') throw new RestorePipeError('The restore parser sent an inconsistent batch');
    return [];
  }
  const parts = text.split(SUMMARY_SEP);
  if (parts.length !== count) throw new RestorePipeError('The restore parser sent an inconsistent batch');
  const out = new Array<CaseSummaryTuple>(count);
  for (let i = 0; i < count; i++) {
    const f = (parts[i] as string).split(FIELD_SEP);
    const closed = f[4];
    if (f.length < 6 || (closed !== '0' && closed !== '1'))
      throw new RestorePipeError('The restore parser sent an unreadable summary');
    const indices: CaseIndex[] = new Array(f.length - 6);
    for (let j = 6; j < f.length; j++) {
      const x = (f[j] as string).split(INDEX_SEP);
      if (x.length !== 4) throw new RestorePipeError('The restore parser sent an unreadable index');
      indices[j - 6] = {
        identifier: x[0] as string,
        caseType: x[1] as string,
        caseId: x[2] as string,
        relationship: x[3] as CaseIndex['relationship'],
      };
    }
    out[i] = [
      f[0] as string,
      f[1] as string,
      f[2] as string,
      f[3] as string,
      closed === '1' ? 1 : 0,
      f[5] as string,
      indices,
    ];
  }
  return out;
}

/** A failure of the parse thread, typed again on the other side (`fromWireError`). */
export interface PipeWireError {
  name: string;
  code?: string;
  message: string;
  retryable?: boolean;
  line?: number;
  column?: number;
  path?: string;
  caseId?: string;
}

/** The parse thread sent something unreadable, or stopped before the end of the payload. */
export class RestorePipeError extends FieldsimError {
  override readonly name = 'RestorePipeError';
  constructor(message: string, cause?: unknown) {
    super('restore-parser-failed', message, cause === undefined ? {} : { cause });
  }
}

export function toWireError(e: unknown): PipeWireError {
  if (e instanceof FieldsimError || (typeof e === 'object' && e !== null && 'code' in e && 'name' in e)) {
    const x = e as unknown as Record<string, unknown>;
    const out: PipeWireError = {
      name: String(x.name),
      code: String(x.code),
      message: String(x.message),
      retryable: x.retryable === true,
    };
    for (const k of ['line', 'column', 'path', 'caseId'] as const)
      if (x[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = x[k];
    return out;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message };
}

/** The parse thread's error as its class (XmlError) or a FieldsimError keeping its name and code. */
export function fromWireError(w: PipeWireError): FieldsimError {
  const code = w.code !== undefined && isErrorCode(w.code) ? w.code : undefined;
  if (code === undefined) return new RestorePipeError(`The restore parser failed: ${w.name}: ${w.message}`);
  if (w.name === 'XmlError')
    return new XmlError(code as ConstructorParameters<typeof XmlError>[0], w.message, {
      ...(w.line !== undefined ? { line: w.line } : {}),
      ...(w.column !== undefined ? { column: w.column } : {}),
      ...(w.path !== undefined ? { path: w.path } : {}),
      ...(w.caseId !== undefined ? { caseId: w.caseId } : {}),
    });
  const err = new FieldsimError(code, w.message, { retryable: w.retryable === true });
  // The class name (NetworkError, ...) for messages and logs; callers act on `code`.
  Object.defineProperty(err, 'name', { value: w.name });
  return err;
}

/** FNV-1a of a case id: the ids seen so far are kept as numbers, not as strings. */
function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  // 30 bits: a small integer (Smi) in V8, not a heap number per entry.
  return h & 0x3fffffff;
}

/** How a `WireBatchBuilder` treats case blocks. */
export interface WireBatchOptions {
  /**
   * Apply each case's first block (default true): only for a full restore, whose new
   * generation starts empty. False sends every case block raw.
   */
  applyCases?: boolean;
  /**
   * Tests: new case ids matching this pattern are taken for known ones (as an id hash
   * collision would), so their first blocks travel raw.
   */
  collide?: RegExp;
  /**
   * Summaries as a JSON array of tuples instead of joined fields (Node's parse thread):
   * decoded with `JSON.parse`, they kept the CLI's 283k-case encrypted restore at +203 MB
   * peak RSS over login; the joined fields, split on the writing side, measured +236 to
   * +269 MB (budget 256; session 9, load 0-5). The reader must be told the same.
   */
  jsonSummaries?: boolean;
}

/**
 * Builds wire batches from parser events, applying the first block of each case on the
 * way (a full restore writes into a new, empty generation, so a case's first block is
 * applied to nothing: `applyCaseBlock(undefined, b)`). Every later block of a case, and a
 * first block the rules refuse, goes raw: the writing side applies it in order with the
 * same rules and the same typed error.
 *
 * A host may carry some events in a section of its own (Node's parse thread packs whole
 * pages of new cases, src/node-store/restore-parse-worker.ts): it takes the records with
 * `firstRecord`, counts them with `countHosted`, puts its own letter in `order` with
 * `markHosted`, and reads them back through `decodeWireBatch`'s `hosted` hook.
 */
export class WireBatchBuilder {
  /**
   * Case ids already named by the payload, as hashes. A collision only sends a first
   * block raw, which the writer applies as any other; the id strings themselves (slices
   * of the payload's text) would keep all of it alive.
   */
  private readonly seen = new Set<number>();
  private readonly applyCases: boolean;
  private readonly collide: RegExp | undefined;
  private readonly json: boolean;
  private order = '';
  private blocks: string[] = [];
  private records: string[] = [];
  private summaries: string[] = [];
  private other: RestoreEvent[] = [];
  /** Events in the batch, a case the host carries itself counting as one. */
  private events = 0;
  chars = 0;

  constructor(opts: WireBatchOptions = {}) {
    this.applyCases = opts.applyCases !== false;
    this.collide = opts.collide;
    this.json = opts.jsonSummaries === true;
  }

  /** Events in the open batch. */
  get size(): number {
    return this.events;
  }

  /** Whether the open batch holds anything to send (a host's letter included). */
  get pending(): boolean {
    return this.order.length > 0;
  }

  add(ev: RestoreEvent): void {
    if (ev.kind !== 'case') {
      this.events++;
      this.order += 'o';
      this.other.push(ev);
      return;
    }
    const rec = this.firstRecord(ev.block);
    if (rec === undefined || !this.addRecord(rec)) this.addBlock(ev.block);
  }

  /** A case block as it is (`b`), for the writer to apply in order. */
  addBlock(block: CaseBlock): void {
    const json = JSON.stringify(block);
    this.events++;
    this.order += 'b';
    this.blocks.push(json);
    this.chars += json.length;
  }

  /**
   * A case's stored record (`a`, a `case-applied` event); false, adding nothing, when its
   * summary cannot travel (see `SUMMARY_SEP`): the caller sends the block raw.
   */
  addRecord(rec: CaseRecord): boolean {
    const summary = this.json ? JSON.stringify(summaryOf(rec)) : encodeSummary(rec);
    if (summary === undefined) return false;
    const json = JSON.stringify(rec);
    this.events++;
    this.order += 'a';
    this.records.push(json);
    this.summaries.push(summary);
    this.chars += json.length + summary.length;
    return true;
  }

  /** A case the host carries itself: it counts toward the batch size as any event. */
  countHosted(): void {
    this.events++;
  }

  /** The host's next item (a letter other than `a`, `b`, `o`), in document order. */
  markHosted(letter: string): void {
    if (letter.length !== 1 || 'abo'.includes(letter))
      throw new RestorePipeError(`A host letter must be one character other than a, b, o: ${letter}`);
    this.order += letter;
  }

  take(bytes: number): WireBatch {
    const out: WireBatch = {
      order: this.order,
      blocks: `[${this.blocks.join(',')}]`,
      records: this.records.join('\n'),
      summaries: this.json ? `[${this.summaries.join(',')}]` : this.summaries.join(SUMMARY_SEP),
      other: this.other,
      bytes,
    };
    this.order = '';
    this.blocks = [];
    this.records = [];
    this.summaries = [];
    this.other = [];
    this.events = 0;
    this.chars = 0;
    return out;
  }

  /**
   * The stored record of a case's first block, applied to nothing; undefined to send the
   * block raw (cases not applied here, a case the payload named before, an empty id, a
   * block without actions, or one the rules refuse).
   */
  firstRecord(b: CaseBlock): CaseRecord | undefined {
    if (!this.applyCases) return undefined;
    const id = b.caseId.trim();
    if (id === '') return undefined;
    const h = idHash(id);
    if (this.seen.has(h)) return undefined;
    this.seen.add(h);
    if (this.collide?.test(id)) return undefined;
    if (b.actions.length === 0) return undefined;
    try {
      return applyCaseBlock(undefined, b);
    } catch {
      return undefined;
    }
  }
}

/**
 * The parser runs in small steps and each event is encoded at once, so its object graph
 * dies young; the strings are gathered up to the batch size asked for (or
 * `MAX_BATCH_CHARS`). Measured in Node's parse thread: handing whole batches of parsed
 * blocks to the encoder cost ~30% of the thread in GC (the batch outlived scavenges).
 */
export const PARSE_STEP = 16;
export const MAX_BATCH_CHARS = 8 * 1024 * 1024;

/** A full restore parsed into wire batches of about `batchSize` events (default 2000). */
export async function* wireBatches(
  body: RestoreBody,
  opts: Omit<RestoreParseOptions, 'onBytes'> = {},
): AsyncGenerator<WireBatch, void, undefined> {
  const target = opts.batchSize ?? 2000;
  const b = new WireBatchBuilder();
  let bytes = 0;
  for await (const batch of parseRestore(body, {
    ...opts,
    batchSize: Math.min(target, PARSE_STEP),
    onBytes: (n) => {
      bytes = n;
    },
  })) {
    for (const ev of batch) b.add(ev);
    if (b.size >= target || b.chars >= MAX_BATCH_CHARS) yield b.take(bytes);
  }
  if (b.size > 0) yield b.take(bytes);
}

/**
 * A wire batch back as the parser's events (`case-applied` for the applied cases).
 * `hosted` reads the host's own letters (see `WireBatchBuilder.markHosted`); the host
 * checks that its section was read to the end.
 */
export function decodeWireBatch(
  m: Omit<WireBatch, 'bytes'>,
  hosted?: (letter: number) => RestoreEvent | undefined,
  opts: Pick<WireBatchOptions, 'jsonSummaries'> = {},
): RestoreEvent[] {
  let blocks: CaseBlock[];
  try {
    blocks = JSON.parse(m.blocks) as CaseBlock[];
  } catch (e) {
    throw new RestorePipeError('The restore parser sent an unreadable batch', e);
  }
  let applied = 0;
  for (let i = 0; i < m.order.length; i++) if (m.order.charCodeAt(i) === 97) applied++;
  const summaries = opts.jsonSummaries
    ? decodeJsonSummaries(m.summaries, applied)
    : decodeSummaries(m.summaries, applied);
  const records = applied === 0 ? [] : m.records.split('\n');
  const out = new Array<RestoreEvent>(m.order.length);
  let b = 0;
  let a = 0;
  let o = 0;
  for (let i = 0; i < m.order.length; i++) {
    const k = m.order.charCodeAt(i);
    let ev: RestoreEvent | undefined;
    if (k === 97 /* a */) {
      if (a < summaries.length && a < records.length) {
        const applied: AppliedCase = {
          json: records[a] as string,
          summary: summaries[a] as CaseSummaryTuple,
        };
        a++;
        ev = { kind: 'case-applied', applied };
      }
    } else if (k === 98 /* b */) {
      if (b < blocks.length) ev = { kind: 'case', block: blocks[b++] as CaseBlock };
    } else if (k === 111 /* o */) ev = m.other[o++];
    else ev = hosted?.(k);
    if (ev === undefined) throw new RestorePipeError('The restore parser sent an incomplete batch');
    out[i] = ev;
  }
  if (a !== summaries.length || a !== records.length || b !== blocks.length || o !== m.other.length)
    throw new RestorePipeError('The restore parser sent an inconsistent batch');
  return out;
}
