/**
 * An incremental `multipart/form-data` reader (RFC 7578 over RFC 2046 section 5.1) for
 * the receiver: it is fed the body chunk by chunk as it arrives and checks each part
 * against its limit while the part is still coming in, so a 150 MB attachment is refused
 * after its first 15 MB instead of after the whole body was buffered (issue 16).
 */

/** The body is not multipart this reader (or any other) can read. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
  readonly code = 'multipart-malformed';
}

/** A part grew past its limit; `part` is its field name. */
export class PartTooLargeError extends Error {
  override readonly name = 'PartTooLargeError';
  readonly code = 'part-too-large';
  readonly part: string;
  readonly limit: number;
  constructor(part: string, limit: number) {
    super(`Part ${part} exceeds ${limit} bytes`);
    this.part = part;
    this.limit = limit;
  }
}

/** A part was refused from its headers alone (the caller's `check` said so). */
export class PartRefusedError extends Error {
  override readonly name = 'PartRefusedError';
  readonly code = 'part-refused';
}

export interface PartHeader {
  name: string;
  /** `filename=` (or RFC 5987 `filename*=`) when present: file parts have one, fields do not. */
  filename: string | undefined;
  /** The part's Content-Type, '' when absent. */
  type: string;
}

export interface StreamedPart extends PartHeader {
  data: Buffer;
}

/** Headers of one part longer than this are not a form submission. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Nor is a preamble longer than this. */
const MAX_PREAMBLE_BYTES = 64 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/** Browsers write `"`, CR and LF in names as `%22`, `%0D`, `%0A` (HTML's form encoding). */
function unescapeName(v: string): string {
  return v.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%22/g, '"');
}

/** RFC 5987 `charset'lang'pct-encoded`; only UTF-8 (and its ASCII subset) is read. */
function extendedValue(v: string): string {
  const m = /^([\w!#$%&+^`{}~-]*)'[\w-]*'(.*)$/.exec(v);
  if (!m) throw new MultipartError(`Unreadable extended parameter: ${v}`);
  const charset = (m[1] ?? '').toLowerCase();
  if (charset !== 'utf-8' && charset !== 'us-ascii')
    throw new MultipartError(`Unsupported charset in a part header: ${charset}`);
  try {
    return decodeURIComponent(m[2] ?? '');
  } catch {
    throw new MultipartError(`Unreadable extended parameter: ${v}`);
  }
}

/** Content-Disposition of a form-data part: its name and file name. */
function disposition(value: string): { name: string | undefined; filename: string | undefined } {
  const semi = value.indexOf(';');
  const kind = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (kind !== 'form-data') throw new MultipartError(`Not a form-data part: ${kind}`);
  const params = new Map<string, string>();
  const re = /;\s*([A-Za-z0-9_*.-]+)\s*=\s*(?:"([^"]*)"|([^\s;"]+))\s*/gy;
  re.lastIndex = semi < 0 ? value.length : semi;
  while (re.lastIndex < value.length) {
    const m = re.exec(value);
    if (!m) throw new MultipartError('Unreadable Content-Disposition');
    const key = (m[1] ?? '').toLowerCase();
    const raw = m[2] !== undefined ? m[2] : (m[3] ?? '');
    if (key.endsWith('*')) params.set(key.slice(0, -1), extendedValue(raw));
    // The extended form wins over the plain one, whichever comes first (RFC 6266 4.3).
    else if (!params.has(`${key}*`) && !(key === 'filename' && params.has('filename')))
      params.set(key, unescapeName(raw));
  }
  return { name: params.get('name'), filename: params.get('filename') };
}

function readHeaders(block: string): PartHeader {
  let name: string | undefined;
  let filename: string | undefined;
  let type = '';
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t'))
      throw new MultipartError('Folded header lines are not read');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('Malformed part header');
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') ({ name, filename } = disposition(value));
    else if (key === 'content-type') type = value;
  }
  if (name === undefined) throw new MultipartError('A part without a name');
  return { name, filename, type };
}

type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'done';

/**
 * Feed with `push(chunk)`, finish with `end()`. `check(header)` runs as soon as a part's
 * headers are read and returns that part's byte limit (or throws to refuse the part).
 * Everything throws one of the typed errors above at the first problem; the caller
 * stops reading there.
 */
export class MultipartStream {
  readonly #dash: Buffer;
  readonly #delimiter: Buffer;
  readonly #check: (h: PartHeader) => number;
  #pending: Buffer = Buffer.alloc(0);
  #seen = 0;
  #state: State = 'preamble';
  #header: PartHeader | undefined;
  #limit = 0;
  #chunks: Buffer[] = [];
  #size = 0;
  readonly parts: StreamedPart[] = [];

  constructor(boundary: string, check: (h: PartHeader) => number) {
    this.#dash = Buffer.from(`--${boundary}`);
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    this.#check = check;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  push(chunk: Buffer): void {
    if (this.#state === 'done') return; // the epilogue is ignored
    this.#pending = this.#pending.byteLength === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (this.#step()) {
      // each step consumes input or changes state; it returns false when it needs more
    }
  }

  end(): StreamedPart[] {
    if (this.#state !== 'done') throw new MultipartError('The multipart body has no closing delimiter');
    return this.parts;
  }

  #consume(n: number): void {
    this.#seen += n;
    this.#pending = this.#pending.subarray(n);
  }

  #step(): boolean {
    const buf = this.#pending;
    switch (this.#state) {
      case 'preamble': {
        const at = buf.indexOf(this.#dash);
        if (at < 0) {
          if (this.#seen + buf.byteLength > MAX_PREAMBLE_BYTES)
            throw new MultipartError('No multipart delimiter found');
          return false;
        }
        // The first delimiter opens the body or follows a CRLF ending a preamble.
        const start = this.#seen + at;
        if (start > 0 && (at < 2 || buf[at - 2] !== 13 || buf[at - 1] !== 10))
          throw new MultipartError('Malformed first delimiter');
        this.#consume(at + this.#dash.byteLength);
        this.#state = 'delimiter';
        return true;
      }
      case 'delimiter': {
        // After a delimiter: `--` closes the body; otherwise optional whitespace, then CRLF.
        let i = 0;
        if (buf.byteLength < 2) return false;
        if (buf[0] === 45 && buf[1] === 45) {
          this.#state = 'done';
          this.#pending = Buffer.alloc(0);
          return false;
        }
        while (i < buf.byteLength && (buf[i] === 32 || buf[i] === 9)) i++;
        if (i > 256) throw new MultipartError('Malformed delimiter line');
        if (buf.byteLength < i + 2) return false;
        if (buf[i] !== 13 || buf[i + 1] !== 10) throw new MultipartError('Malformed delimiter line');
        // Leave the CRLF so an empty header block still ends in CRLF CRLF.
        this.#consume(i);
        this.#state = 'headers';
        return true;
      }
      case 'headers': {
        const end = buf.indexOf(HEADER_END);
        if (end < 0) {
          if (buf.byteLength > MAX_HEADER_BYTES) throw new MultipartError('Part headers too long');
          return false;
        }
        const header = readHeaders(buf.toString('utf8', 2, end));
        this.#limit = this.#check(header);
        this.#header = header;
        this.#chunks = [];
        this.#size = 0;
        this.#consume(end + HEADER_END.byteLength);
        this.#state = 'body';
        return true;
      }
      case 'body': {
        const at = buf.indexOf(this.#delimiter);
        if (at >= 0) {
          this.#take(buf.subarray(0, at));
          const header = this.#header!;
          this.parts.push({
            ...header,
            data: this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks),
          });
          this.#chunks = [];
          this.#consume(at + this.#delimiter.byteLength);
          this.#state = 'delimiter';
          return true;
        }
        // Keep only what could be the start of a delimiter split across chunks.
        const safe = buf.byteLength - (this.#delimiter.byteLength - 1);
        if (safe > 0) {
          // Copied: the chunk it views may be much larger than what this part keeps.
          this.#take(Buffer.from(buf.subarray(0, safe)));
          this.#consume(safe);
        }
        return false;
      }
      case 'done':
        return false;
    }
  }

  #take(bytes: Buffer): void {
    this.#size += bytes.byteLength;
    if (this.#size > this.#limit) throw new PartTooLargeError(this.#header!.name, this.#limit);
    if (bytes.byteLength > 0) this.#chunks.push(bytes);
  }
}
