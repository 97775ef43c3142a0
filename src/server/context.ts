import { DEACTIVATED_MESSAGES } from './auth/authenticate.ts';
import type { PasswordCache } from './auth/passwords.ts';
import { authenticateRequest, challenge } from './auth/request-auth.ts';
import type { Db } from './db/database.ts';
import type { UserRow } from './db/users.ts';
import type { FaultConfig, FaultDecision } from './faults.ts';
import type { RateLimiter } from './rate-limits.ts';
import type { FormProcessor } from './receiver/submit.ts';
import type { AsyncRestores } from './restore/async-restore.ts';

export type { Ctx, Env } from './http-env.ts';
export { BASIC_CHALLENGE } from './http-env.ts';

import { BASIC_CHALLENGE, type Ctx } from './http-env.ts';

export interface EmulatorSettings {
  /** Restores with more cases than this answer 202 first (OpenRosa >= 2.0 only); null = never. */
  asyncRestoreThreshold: number | null;
  /** `Retry-After` seconds for 202 responses (HQ's default `ASYNC_RETRY_AFTER` is 5). */
  asyncRetryAfter: number;
  /** How many 202 polls an async restore takes before the payload is served. */
  asyncPolls: number;
  /** HQ's `MAX_UPLOAD_SIZE` (10 MB) and `MAX_UPLOAD_SIZE_ATTACHMENT` (15 MB). */
  maxXmlBytes: number;
  maxAttachmentBytes: number;
  /** Lifetime of a Digest nonce (django_digest's `DIGEST_NONCE_TIMEOUT_IN_SECONDS`, 300). */
  digestNonceSeconds: number;
  /** Bytes of request bodies all uploads together may hold (receiver/upload-budget.ts). */
  uploadBudgetBytes?: number;
}

/** Shared state of one emulator instance, passed to every route module. */
export interface Hq {
  db: Db;
  passwords: PasswordCache;
  processor: FormProcessor;
  settings: EmulatorSettings;
  faults: FaultConfig;
  random: () => number;
  rateLimiter: RateLimiter;
  asyncRestores: AsyncRestores;
  /** Decides the injected fault for one request (and sleeps for the configured latency). */
  injectFault(): Promise<FaultDecision>;
}

/** 401 with a Basic challenge and an empty body (`basicauth`, hq:corehq/apps/domain/auth.py). */
export function unauthorized(c: Ctx): Response {
  return c.body(null, 401, { 'WWW-Authenticate': BASIC_CHALLENGE });
}

/**
 * Authenticates a request for `domain`; answers 401 (challenge), 400 (malformed ApiKey)
 * or 406 JSON for deactivated/deleted mobile workers (`handle_401_response`,
 * hq:corehq/apps/ota/utils.py).
 */
export function requireUser(hq: Hq, c: Ctx, domain: string): UserRow | Response {
  const r = authenticateRequest(hq, c, authorizationOf(c), domain);
  if (r.ok) return r.user;
  switch (r.reason) {
    case 'missing':
    case 'invalid':
      return challenge(hq, c, r, 'phone');
    case 'malformed':
      return c.text(r.message, 400);
    case 'deactivated':
    case 'deleted':
      return c.json({ error: `user.${r.reason}`, default_response: DEACTIVATED_MESSAGES[r.reason] }, 406);
  }
}

/**
 * The gate in front of the phone endpoints (restore and receiver), in HQ's order:
 * authentication, then the emulator's injected faults, then HQ's rate limits
 * (`rate_limit_restore` / `rate_limit_submission`: 429, empty body, no Retry-After).
 * `dropAfterStore` tells the handler to do its work and then drop the connection;
 * `locked` (receiver only; restores ignore it) to answer 423 once it has read the form.
 */
export async function guardPhoneRequest(
  hq: Hq,
  c: Ctx,
  domain: string,
  kind: 'submission' | 'restore',
): Promise<{ user: UserRow; dropAfterStore: boolean; locked: boolean } | Response> {
  const user = requireUser(hq, c, domain);
  if (user instanceof Response) return user;
  const fault = await hq.injectFault();
  if (fault === '500') return c.text('Injected server error', 500);
  if (fault === '429') return c.body(null, 429);
  if (!hq.rateLimiter.allow(kind, domain, user.id)) return c.body(null, 429);
  return {
    user,
    dropAfterStore: fault === 'drop-after-store',
    locked: kind === 'submission' && fault === '423',
  };
}

/**
 * The Authorization header, or API-key credentials passed as `?username=…&api_key=…`
 * (`allow_creds_in_data`, hq:corehq/apps/domain/auth.py), which HQ also accepts.
 */
export function authorizationOf(c: Ctx): string | undefined {
  const header = c.req.header('authorization');
  if (header) return header;
  const username = c.req.query('username');
  const key = c.req.query('api_key');
  return username && key ? `ApiKey ${username}:${key}` : undefined;
}

/** Ends the connection without any response (the "dropped after store" fault). */
export function dropConnection(c: Ctx): Response {
  const socket = c.env?.incoming?.socket;
  socket?.destroy();
  // Nothing is written to a destroyed socket; the value only satisfies the handler type.
  return new Response(null, { status: 500 });
}

export const OPENROSA_RESPONSE_NS = 'http://openrosa.org/http/response';
