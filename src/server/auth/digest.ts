import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/database.ts';
import {
  DIGEST_ALGORITHMS,
  DIGEST_REALM,
  type DigestAlgorithm,
  digestHash,
  findDigest,
} from './digest-store.ts';

/**
 * HTTP Digest (RFC 7616) as HQ accepts it through django_digest: qop `auth`, nonces that
 * expire (`DIGEST_NONCE_TIMEOUT_IN_SECONDS`, 5 minutes by default) and a nonce count that
 * must grow (`DIGEST_ENFORCE_NONCE_COUNT`), with an expired nonce answered `stale=true` so
 * the client retries with the new one without asking for the password again. HQ offers
 * MD5 only; SHA-256 is offered as well, RFC 7616's algorithm.
 */

/** The parameters of an `Authorization: Digest ...` header (auth-param list, RFC 7235). */
export function parseDigestParams(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let end = 0;
  while (end < text.length) {
    const m = re.exec(text);
    if (m === null || m[0] === '') break;
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
    end = re.lastIndex;
  }
  return text.slice(end).trim() === '' ? out : undefined;
}

/** Issues and checks nonces: `<issued ms>.<random>.<hmac>`, so any emulator-made nonce verifies without storage. */
export class DigestNonces {
  readonly #secret = randomBytes(32);
  /** Highest nonce count seen per nonce still within its lifetime. */
  readonly #counts = new Map<string, number>();
  readonly lifetimeMs: number;
  readonly #now: () => number;

  constructor(lifetimeMs: number, now: () => number = Date.now) {
    this.lifetimeMs = lifetimeMs;
    this.#now = now;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }

  issue(): string {
    const body = `${this.#now().toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.#mac(body)}`;
  }

  /** `fresh`, `expired` (answer stale=true) or `forged` (not one of ours). */
  check(nonce: string): 'fresh' | 'expired' | 'forged' {
    const cut = nonce.lastIndexOf('.');
    if (cut < 0) return 'forged';
    const body = nonce.slice(0, cut);
    const mac = Buffer.from(nonce.slice(cut + 1));
    const want = Buffer.from(this.#mac(body));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return 'forged';
    const issued = Number.parseInt(body.slice(0, body.indexOf('.')), 36);
    return this.#now() - issued > this.lifetimeMs ? 'expired' : 'fresh';
  }

  /** Records `nc` for `nonce`; false for a replay (a count not above the last one seen). */
  acceptCount(nonce: string, nc: number): boolean {
    const last = this.#counts.get(nonce) ?? 0;
    if (nc <= last) return false;
    if (this.#counts.size >= 50_000) this.#prune();
    this.#counts.set(nonce, nc);
    return true;
  }

  #prune(): void {
    for (const nonce of this.#counts.keys()) if (this.check(nonce) !== 'fresh') this.#counts.delete(nonce);
    if (this.#counts.size >= 50_000) this.#counts.clear();
  }
}

export type DigestOutcome =
  | { ok: true; userId: string }
  /** `stale`: the credentials were right but the nonce has expired. */
  | { ok: false; stale: boolean; why: string };

function algorithmOf(value: string | undefined): DigestAlgorithm | undefined {
  const v = (value ?? 'MD5').toUpperCase();
  return DIGEST_ALGORITHMS.find((a) => a === v);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks a Digest response for `method` on `requestUri` (path and query as received):
 * realm, algorithm, qop=auth, the uri echoed, the nonce ours and not expired, the count
 * growing, and `response` = H(HA1:nonce:nc:cnonce:qop:H(method:uri)).
 */
export function verifyDigest(
  db: Db,
  domain: string,
  nonces: DigestNonces,
  headerParams: string,
  method: string,
  requestUri: string,
): DigestOutcome {
  const p = parseDigestParams(headerParams);
  if (!p) return { ok: false, stale: false, why: 'unreadable Digest header' };
  const username = p.get('username') ?? '';
  const nonce = p.get('nonce') ?? '';
  const uri = p.get('uri') ?? '';
  const response = (p.get('response') ?? '').toLowerCase();
  const cnonce = p.get('cnonce') ?? '';
  const ncText = p.get('nc') ?? '';
  const algorithm = algorithmOf(p.get('algorithm'));
  if (!username || !nonce || !uri || !response) return { ok: false, stale: false, why: 'missing parameter' };
  if (p.get('realm') !== DIGEST_REALM) return { ok: false, stale: false, why: 'wrong realm' };
  if (!algorithm) return { ok: false, stale: false, why: 'unsupported algorithm' };
  if (p.get('qop') !== 'auth' || !cnonce || !/^[0-9a-fA-F]{8}$/.test(ncText))
    return { ok: false, stale: false, why: 'qop=auth with nc and cnonce required' };
  if (uri !== requestUri) return { ok: false, stale: false, why: 'uri does not match the request' };
  const nonceState = nonces.check(nonce);
  if (nonceState === 'forged') return { ok: false, stale: false, why: 'unknown nonce' };
  const row = findDigest(db, domain, username, algorithm);
  if (!row) return { ok: false, stale: false, why: 'unknown login' };
  const ha2 = digestHash(algorithm, `${method}:${uri}`);
  const expected = digestHash(algorithm, `${row.ha1}:${nonce}:${ncText}:${cnonce}:auth:${ha2}`);
  if (!safeEqual(expected, response)) return { ok: false, stale: false, why: 'wrong password' };
  if (nonceState === 'expired') return { ok: false, stale: true, why: 'nonce expired' };
  if (!nonces.acceptCount(nonce, Number.parseInt(ncText, 16)))
    return { ok: false, stale: false, why: 'nonce count replayed' };
  return { ok: true, userId: row.user_id };
}

/** The Digest challenges, MD5 first as HQ sends it, then SHA-256. */
export function digestChallenges(nonces: DigestNonces, stale: boolean): string[] {
  const nonce = nonces.issue();
  const opaque = digestHash('MD5', `${DIGEST_REALM}:${nonce}`);
  return ['MD5', 'SHA-256'].map(
    (alg) =>
      `Digest realm="${DIGEST_REALM}", qop="auth", algorithm=${alg}, nonce="${nonce}", opaque="${opaque}"${stale ? ', stale=true' : ''}`,
  );
}
