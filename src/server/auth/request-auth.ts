import type { Db } from '../db/db-handle.ts';
import { BASIC_CHALLENGE, type Ctx } from '../http-env.ts';
import { type AuthResult, authenticate } from './authenticate.ts';
import { DigestNonces, digestChallenges } from './digest.ts';
import type { PasswordCache } from './passwords.ts';

/** What authentication needs of the emulator (its Hq, without importing context.ts). */
interface AuthHq {
  db: Db;
  passwords: PasswordCache;
  settings: { digestNonceSeconds: number };
}

/** One nonce source per emulator instance (its secret dies with it). */
const noncesOf = new WeakMap<AuthHq, DigestNonces>();

export function digestNonces(hq: AuthHq): DigestNonces {
  let n = noncesOf.get(hq);
  if (!n) {
    n = new DigestNonces(hq.settings.digestNonceSeconds * 1000);
    noncesOf.set(hq, n);
  }
  return n;
}

/** The request target as the client wrote it: path and query. */
function requestUri(c: Ctx): string {
  const raw = c.env?.incoming?.url;
  if (raw?.startsWith('/')) return raw;
  const u = new URL(c.req.url);
  return u.pathname + u.search;
}

/** `authenticate` with the Digest context of this request. */
export function authenticateRequest(
  hq: AuthHq,
  c: Ctx,
  header: string | undefined,
  domain: string,
): AuthResult {
  return authenticate(hq.db, hq.passwords, header, domain, {
    nonces: digestNonces(hq),
    method: c.req.method,
    uri: requestUri(c),
  });
}

/** `is_probably_j2me` (hq:corehq/apps/domain/auth.py): such phones are challenged with Digest. */
const J2ME_AGENT = /[Nn]okia|NOKIA|CLDC|cldc|MIDP|midp|Series60|Series40|[Ss]ymbian|SymbOS|[Mm]aemo/;

/**
 * The 401 for a failed or missing authentication. HQ picks one scheme per request
 * (`determine_authtype_from_request`): a client that tried Digest, or a J2ME phone, is
 * challenged with Digest; mobile endpoints otherwise default to Basic (Android sends Basic
 * first). The APIs default to Digest on HQ; the emulator offers Basic and Digest there,
 * Basic first, so Basic-only clients keep working.
 */
export function challenge(hq: AuthHq, c: Ctx, r: AuthResult, surface: 'phone' | 'api'): Response {
  const tried = !r.ok && (r.reason === 'missing' || r.reason === 'invalid') ? r.digest : undefined;
  const j2me = J2ME_AGENT.test(c.req.header('user-agent') ?? '');
  const headers = new Headers();
  if (tried || j2me) {
    for (const ch of digestChallenges(digestNonces(hq), tried?.stale === true))
      headers.append('WWW-Authenticate', ch);
  } else {
    headers.append('WWW-Authenticate', BASIC_CHALLENGE);
    if (surface === 'api')
      for (const ch of digestChallenges(digestNonces(hq), false)) headers.append('WWW-Authenticate', ch);
  }
  return new Response(null, { status: 401, headers });
}
