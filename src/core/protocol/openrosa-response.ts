import { XmlError } from '../errors/xml-error.ts';
import { stringXmlParser } from './string-xml-parser.ts';

/**
 * The `<OpenRosaResponse xmlns="http://openrosa.org/http/response">` envelope HQ wraps
 * around receiver answers, restore errors and async-restore progress
 * (hq:corehq/ex-submodules/couchforms/openrosa_response.py; PROTOCOL.md 3.4, 3.5, 7.3).
 *
 * Natures seen from HQ: `submit_success`, `submit_error`, `processing_failure`,
 * `post_processing_failure`, `ota_restore_success`, `ota_restore_pending`,
 * `ota_restore_error`.
 */
export interface OpenRosaResponse {
  /** The first `<message>`'s `nature` attribute, if any. */
  nature?: string;
  /** The first `<message>`'s text, trimmed (HQ pads its `√` success text with spaces). */
  message?: string;
  /** Every `<message>`, in document order. */
  messages: { nature?: string; text: string }[];
  /** `<Sync><progress done total [retry-after]/>` of a 202 async restore. */
  progress?: { done: number; total: number; retryAfterSeconds?: number };
  /** The root `items` attribute (restores). */
  items?: number;
}

type Node = Record<string, unknown>;

// Data loss guards (DESIGN.md section 2): values stay strings, and the repeatable
// elements are always arrays so one vs many <message>s look the same to the code below.
const parser = stringXmlParser({
  trimValues: false,
  // Numeric character references (`&#233;`, `&#x2F;`) are plain XML, and servers use them:
  // ODK Central renders its messages through mustache, which escapes `/`, `'`, `=` and
  // backquote as `&#x2F;`, `&#39;`, `&#x3D;`, `&#x60;`; Aggregate and Kobo write non-ASCII
  // text as references. The parser only decodes them with `htmlEntities` on; `&amp;` is
  // still replaced last, so `&amp;#233;` stays the literal text `&#233;`.
  htmlEntities: true,
  isArray: (name) => name === 'message' || name === 'progress',
});

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') {
    const t = (v as Node)['#text'];
    if (typeof t === 'string' || typeof t === 'number') return String(t);
  }
  return '';
}

function attr(v: unknown, name: string): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const a = (v as Node)[`@${name}`];
  return typeof a === 'string' ? a : undefined;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

/**
 * Parses an OpenRosa response body. Throws `XmlError('xml-malformed')` when the text is
 * not XML, and `XmlError('xml-invalid')` when the root is not `OpenRosaResponse`.
 */
export function parseOpenRosaResponse(xml: string): OpenRosaResponse {
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (cause) {
    throw new XmlError('xml-malformed', 'The OpenRosa response is not well-formed XML', { cause });
  }
  const root = doc.OpenRosaResponse;
  if (root === undefined) throw new XmlError('xml-invalid', 'The response has no <OpenRosaResponse> root');
  const rootNode: Node = root !== null && typeof root === 'object' ? (root as Node) : {};
  const messages: OpenRosaResponse['messages'] = [];
  const rawMessages = rootNode.message;
  if (Array.isArray(rawMessages)) {
    for (const m of rawMessages) {
      const nature = attr(m, 'nature');
      messages.push(nature === undefined ? { text: textOf(m).trim() } : { nature, text: textOf(m).trim() });
    }
  }
  const out: OpenRosaResponse = { messages };
  const first = messages[0];
  if (first !== undefined) {
    if (first.nature !== undefined) out.nature = first.nature;
    out.message = first.text;
  }
  const items = int(attr(rootNode, 'items'));
  if (items !== undefined) out.items = items;
  const sync = rootNode.Sync;
  const progressList = sync !== null && typeof sync === 'object' ? (sync as Node).progress : undefined;
  const p = Array.isArray(progressList) ? progressList[0] : undefined;
  const done = int(attr(p, 'done'));
  const total = int(attr(p, 'total'));
  if (done !== undefined && total !== undefined) {
    const retry = int(attr(p, 'retry-after'));
    out.progress = retry === undefined ? { done, total } : { done, total, retryAfterSeconds: retry };
  }
  return out;
}

/** Like `parseOpenRosaResponse` but returns `undefined` for anything unreadable. */
export function tryParseOpenRosaResponse(text: string): OpenRosaResponse | undefined {
  if (!text.includes('OpenRosaResponse')) return undefined;
  try {
    return parseOpenRosaResponse(text);
  } catch {
    return undefined;
  }
}
