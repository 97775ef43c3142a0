import { md5Hex, toHex } from '../lib/md5.ts';

/**
 * The client side of HTTP Digest (RFC 7616, qop=auth): reading the challenges of a 401 and
 * answering them. HQ (django_digest) offers MD5; SHA-256 is preferred when offered. The
 * nonce is kept and reused with a growing count, so only the first request of a session,
 * and one after the nonce expires (`stale=true`), costs a 401 round trip.
 */

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: DigestAlgorithm;
  qop: string[];
  stale: boolean;
}

/** Splits on commas outside quoted strings. */
function splitTopLevel(header: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i]!;
    if (quoted && ch === '\\' && i + 1 < header.length) {
      cur += ch + header[++i]!;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  return t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
}

/**
 * The Digest challenges in a `WWW-Authenticate` value (fetch joins several headers with
 * ", "), other schemes skipped; algorithms other than MD5 and SHA-256 are left out.
 */
export function parseDigestChallenges(header: string | null | undefined): DigestChallenge[] {
  if (!header) return [];
  const challenges: { scheme: string; params: Map<string, string> }[] = [];
  for (const piece of splitTopLevel(header)) {
    const start = /^\s*([A-Za-z][\w.-]*)\s+([\s\S]*)$/.exec(piece);
    // A new challenge starts with a scheme token followed by a space before any `=`.
    let param = piece;
    if (start && !start[1]!.includes('=') && !/^\s*=/.test(start[2]!)) {
      challenges.push({ scheme: start[1]!.toLowerCase(), params: new Map() });
      param = start[2]!;
    }
    const eq = param.indexOf('=');
    const current = challenges.at(-1);
    if (eq > 0 && current)
      current.params.set(param.slice(0, eq).trim().toLowerCase(), unquote(param.slice(eq + 1)));
  }
  const out: DigestChallenge[] = [];
  for (const c of challenges) {
    if (c.scheme !== 'digest') continue;
    const alg = (c.params.get('algorithm') ?? 'MD5').toUpperCase();
    if (alg !== 'MD5' && alg !== 'SHA-256') continue;
    const nonce = c.params.get('nonce');
    if (!nonce) continue;
    out.push({
      realm: c.params.get('realm') ?? '',
      nonce,
      opaque: c.params.get('opaque'),
      algorithm: alg,
      qop: (c.params.get('qop') ?? '')
        .split(',')
        .map((q) => q.trim().toLowerCase())
        .filter((q) => q !== ''),
      stale: (c.params.get('stale') ?? '').toLowerCase() === 'true',
    });
  }
  return out;
}

const encoder = new TextEncoder();

async function hash(alg: DigestAlgorithm, text: string): Promise<string> {
  if (alg === 'MD5') return md5Hex(text);
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

function quote(v: string): string {
  return `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** The request target a Digest `uri` names: path and query, as fetch sends them. */
export function digestUri(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** One login's Digest state: the adopted challenge and its nonce count. */
export class DigestSession {
  readonly #username: string;
  readonly #password: string;
  #challenge: DigestChallenge | undefined;
  #nc = 0;
  readonly #cnonce: () => string;

  /** `cnonce` makes the client nonce predictable for tests (RFC 7616's worked example). */
  constructor(username: string, password: string, cnonce?: () => string) {
    this.#username = username;
    this.#password = password;
    this.#cnonce = cnonce ?? (() => toHex(crypto.getRandomValues(new Uint8Array(8))));
  }

  get ready(): boolean {
    return this.#challenge !== undefined;
  }

  /**
   * Takes the best Digest challenge of a 401 (SHA-256 over MD5; qop `auth` required).
   * Returns false when there is none to answer, or when the last answer was already made
   * with a nonce the server did not call stale: the password is wrong, and asking again
   * would only repeat it.
   */
  adopt(header: string | null | undefined, alreadyAnswered: boolean): boolean {
    const usable = parseDigestChallenges(header).filter((c) => c.qop.includes('auth'));
    const pick = usable.find((c) => c.algorithm === 'SHA-256') ?? usable[0];
    if (!pick) return false;
    if (alreadyAnswered && !pick.stale) return false;
    this.#challenge = pick;
    this.#nc = 0;
    return true;
  }

  /** Forgets the nonce (after a refusal), so the next request asks for a fresh one. */
  reset(): void {
    this.#challenge = undefined;
  }

  /** `Authorization: Digest ...` for `method` on `url`; needs an adopted challenge. */
  async authorization(method: string, url: string): Promise<string> {
    const ch = this.#challenge;
    if (!ch) throw new Error('DigestSession.authorization before a challenge was adopted');
    const uri = digestUri(url);
    this.#nc += 1;
    const nc = this.#nc.toString(16).padStart(8, '0');
    const cnonce = this.#cnonce();
    const ha1 = await hash(ch.algorithm, `${this.#username}:${ch.realm}:${this.#password}`);
    const ha2 = await hash(ch.algorithm, `${method.toUpperCase()}:${uri}`);
    const response = await hash(ch.algorithm, `${ha1}:${ch.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const parts = [
      `username=${quote(this.#username)}`,
      `realm=${quote(ch.realm)}`,
      `nonce=${quote(ch.nonce)}`,
      `uri=${quote(uri)}`,
      `algorithm=${ch.algorithm}`,
      'qop=auth',
      `nc=${nc}`,
      `cnonce=${quote(cnonce)}`,
      `response=${quote(response)}`,
    ];
    if (ch.opaque !== undefined) parts.push(`opaque=${quote(ch.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }

  /**
   * What a client in Digest mode sends before it holds a nonce: a Digest header without a
   * response. HQ picks the scheme from the header (`determine_authtype_from_header`), so
   * this draws a Digest challenge where no header would draw a Basic one; nothing secret
   * is sent.
   */
  probe(): string {
    return `Digest username=${quote(this.#username)}`;
  }
}
