import ky, { type KyInstance } from 'ky';
import { ERROR_MESSAGES, type ErrorCode } from '../errors/codes.ts';
import { FieldsimError } from '../errors/fieldsim-error.ts';
import { HttpError } from '../errors/http-error.ts';
import { backoffDelay } from '../http/backoff.ts';
import { basicAuthHeader } from '../http/basic-auth.ts';
import { ClientAuth } from '../http/client-auth.ts';
import { toNetworkError } from '../http/is-network-error.ts';
import { parseRetryAfter } from '../http/retry-after.ts';
import { type FetchLike, systemClock } from '../platform.ts';
import type { ApiPage } from './api-types.ts';

/**
 * The HTTP layer under `HqApiClient`: authentication, JSON in and out, HQ's error shapes
 * mapped to typed errors, 429 back-off and tastypie pagination.
 *
 * Request life cycle (one call):
 *
 *   send ──► 2xx ──► JSON (or nothing for 202/204) ──► caller
 *     │       └─ body not JSON ─────────────────────► HttpError bad-response
 *     ├──► 429 ─► attempts left and wait <= capMs? ─ yes ─► sleep ─► send again
 *     │                                             └ no ─► HttpError rate-limited
 *     ├──► 400/401/403/404/5xx/other ───────────────► HttpError (code by status)
 *     └──► no answer ───────────────────────────────► NetworkError
 *
 * Only 429 is retried, for every method: HQ answers it before running the view
 * (tastypie `throttle_check`, hq:docs/api/openapi/components/responses.yaml
 * `TooManyRequests`), so a retried POST cannot create twice. HQ's tastypie 429 has no
 * body and no `Retry-After`; its plain-Django views and proxies may send one, which wins.
 */

/** Credentials for HQ's JSON APIs (PROTOCOL.md 2.2; securitySchemes.yaml). */
export type ApiAuth =
  /** `Authorization: ApiKey <username>:<key>`; the username is the web user's email. */
  | { kind: 'api-key'; username: string; key: string }
  /**
   * `Authorization: Basic`; HQ's JSON APIs want a web user. A 401 with a Digest challenge
   * is answered with Digest.
   */
  | { kind: 'basic'; username: string; password: string }
  /** HTTP Digest only (RFC 7616, MD5 or SHA-256): HQ's APIs default to it. */
  | { kind: 'digest'; username: string; password: string };

export interface ApiRetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  maxAttempts: number;
  /** First back-off; doubles per retry, with jitter. */
  baseMs: number;
  /** Longest single wait. A `Retry-After` longer than this is not waited for: the error is thrown. */
  capMs: number;
}

export const DEFAULT_API_RETRY: ApiRetryPolicy = { maxAttempts: 5, baseMs: 1_000, capMs: 30_000 };

export interface ApiRetryInfo {
  /** The attempt that got the 429 (1-based). */
  attempt: number;
  delayMs: number;
  status: number;
  /** The request URL, without credentials (there never are any in it). */
  url: string;
}

export interface ApiTransportOptions {
  serverUrl: string;
  domain: string;
  auth: ApiAuth;
  fetch?: FetchLike;
  retry?: Partial<ApiRetryPolicy>;
  /** Waits between retries (default a timer); tests pass a fake. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Clock for HTTP-date `Retry-After` values (default `Date.now`). */
  now?: () => number;
  /** Cancels every request and wait of this client. */
  signal?: AbortSignal;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  /** API version path segment (default `v0.5`). */
  apiVersion?: string;
  /** Called before each back-off wait (for progress displays and metrics). */
  onRetry?: (info: ApiRetryInfo) => void;
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; `undefined` when the body was empty. */
  json: unknown;
}

/** Query parameters that can carry credentials (HQ's `allow_creds_in_data`); never shown. */
const SECRET_PARAMS = ['api_key', 'password', 'key'];

/** The URL with credential-bearing query parameters masked, for errors and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    let changed = u.username !== '' || u.password !== '';
    u.username = '';
    u.password = '';
    for (const p of SECRET_PARAMS)
      if (u.searchParams.has(p)) {
        u.searchParams.set(p, 'REDACTED');
        changed = true;
      }
    return changed ? u.toString() : url;
  } catch {
    return url;
  }
}

function shortText(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  // Django error pages are HTML (hq:docs/api/openapi/components/responses.yaml, 403/404):
  // keep their title only.
  if (/^<(!doctype|html)/i.test(t)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(t)?.[1]?.trim();
    return title === undefined || title === '' ? undefined : title;
  }
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

/**
 * The server's own words from an error body. HQ uses three JSON shapes: `{"error": ...}`
 * (most resources), `{"error_message": ...}` (tastypie's canned 404/500) and
 * `{"errors": [...]}` (web-user validation) (responses.yaml; schemas/user.yaml
 * `UserErrorMessage`, `WebUserErrors`). Many 401/403/404/429 bodies are empty.
 */
export function serverMessageOf(text: string): string | undefined {
  try {
    const j: unknown = JSON.parse(text);
    if (typeof j === 'object' && j !== null && !Array.isArray(j)) {
      const o = j as Record<string, unknown>;
      if (typeof o.error === 'string' && o.error !== '') return o.error;
      if (typeof o.error_message === 'string' && o.error_message !== '') return o.error_message;
      if (Array.isArray(o.errors)) {
        const parts = o.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
        if (parts.length > 0) return parts.join('; ');
      }
    }
    if (typeof j === 'string' && j !== '') return j;
  } catch {
    // not JSON: plain text or HTML below
  }
  return shortText(text);
}

/** The path of a URL (no host, no query) for messages. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 400) return 'bad-request';
  if (status === 401) return 'auth-invalid';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server-error';
  return 'bad-response';
}

/**
 * The typed error for an HQ API answer: 400 `bad-request` (HQ also answers 400 for an
 * unknown user id on `user/<id>/` and `web-user/<id>/`), 401 `auth-invalid`, 403
 * `forbidden` (missing permission, or not a web user), 404 `not-found`, 429
 * `rate-limited`, 5xx `server-error`, anything else `bad-response`.
 */
export function apiHttpError(
  method: string,
  url: string,
  status: number,
  bodyText: string,
  retryAfterMs?: number,
): HttpError {
  const code = codeFor(status);
  const serverMessage = serverMessageOf(bodyText);
  const safeUrl = redactUrl(url);
  const path = pathOf(safeUrl);
  const what = ERROR_MESSAGES[code].replace(/\.$/, '');
  const message = `${method.toUpperCase()} ${path}: ${what} (HTTP ${status})${serverMessage ? `: ${serverMessage}` : ''}`;
  return new HttpError(
    code,
    message,
    {
      status,
      url: safeUrl,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(serverMessage === undefined ? {} : { serverMessage }),
    },
    status === 429 || status >= 500,
  );
}

/** `Authorization` header value for the credentials (never logged, never in a URL). */
export function apiAuthHeader(auth: ApiAuth): string {
  // HQ splits both schemes' credentials on the first `:` (PROTOCOL.md 2.2), so a username
  // holding one could never authenticate.
  if (auth.username.includes(':'))
    throw new FieldsimError('invalid-argument', 'An HQ username cannot contain ":"');
  return auth.kind === 'api-key'
    ? `ApiKey ${auth.username}:${auth.key}`
    : basicAuthHeader(auth.username, auth.password);
}

function clientAuth(auth: ApiAuth): ClientAuth {
  const upfront = apiAuthHeader(auth);
  if (auth.kind === 'api-key') return new ClientAuth({ mode: 'basic', upfront, username: auth.username });
  return new ClientAuth({
    mode: auth.kind === 'digest' ? 'digest' : 'basic',
    upfront,
    username: auth.username,
    password: auth.password,
  });
}

export class ApiTransport {
  readonly serverUrl: string;
  readonly domain: string;
  readonly apiVersion: string;
  readonly #auth: ClientAuth;
  readonly #ky: KyInstance;
  readonly #retry: ApiRetryPolicy;
  readonly #opts: ApiTransportOptions;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(opts: ApiTransportOptions) {
    this.serverUrl = opts.serverUrl.replace(/\/+$/, '');
    this.domain = opts.domain;
    this.apiVersion = opts.apiVersion ?? 'v0.5';
    this.#auth = clientAuth(opts.auth);
    this.#retry = { ...DEFAULT_API_RETRY, ...opts.retry };
    this.#opts = opts;
    this.#sleep = opts.sleep ?? systemClock.sleep;
    const f: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    // ky's own retries are off: the 429 policy below is HQ-specific and must cover POSTs.
    this.#ky = ky.create({
      fetch: f,
      retry: 0,
      throwHttpErrors: false,
      redirect: 'follow',
      // Restores and API answers hold case data: never left in the browser's HTTP cache.
      cache: 'no-store',
    });
  }

  /** Absolute URL of `/a/<domain>/api/<version>/<path>`. */
  url(path: string, query?: URLSearchParams): string {
    const qs = query && [...query.keys()].length > 0 ? `?${query.toString()}` : '';
    return `${this.serverUrl}/a/${encodeURIComponent(this.domain)}/api/${this.apiVersion}/${path}${qs}`;
  }

  /**
   * A `next`/`previous` link from `meta` as an absolute URL on this client's server. HQ
   * sends relative links (`/a/demo/api/...`, pagination.yaml); an absolute link is
   * re-based onto `serverUrl` too, so credentials never go to another host.
   */
  resolveLink(link: string): string {
    const base = new URL(`${this.serverUrl}/`);
    const target = new URL(link, base);
    const prefix = base.pathname.replace(/\/$/, '');
    const path =
      prefix !== '' && !target.pathname.startsWith(`${prefix}/`) ? prefix + target.pathname : target.pathname;
    return `${base.origin}${path}${target.search}`;
  }

  #backoffMs(retryNumber: number): number {
    const { baseMs, capMs } = this.#retry;
    return backoffDelay(retryNumber, { baseMs, maxMs: capMs }, this.#opts.random ?? Math.random);
  }

  /** One API call with the 429 policy; throws `HttpError`/`NetworkError` as described above. */
  async request(method: HttpMethod, url: string, body?: unknown): Promise<ApiResponse> {
    const safeUrl = redactUrl(url);
    const res = await this.#exchange(method, url, body, 'application/json');
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw toNetworkError(e, safeUrl, this.#opts.signal);
    }
    if (text.trim() === '') return { status: res.status, headers: res.headers, json: undefined };
    try {
      return { status: res.status, headers: res.headers, json: JSON.parse(text) as unknown };
    } catch {
      const snippet = shortText(text);
      throw new HttpError(
        'bad-response',
        `${method.toUpperCase()} ${pathOf(safeUrl)}: the answer is not JSON (HTTP ${res.status}, ${res.headers.get('content-type') ?? 'no content type'})`,
        { status: res.status, url: safeUrl, ...(snippet === undefined ? {} : { serverMessage: snippet }) },
      );
    }
  }

  /** GET a file (a form attachment) with the same auth, back-off and errors. */
  async getBlob(url: string): Promise<Blob> {
    const res = await this.#exchange('get', url, undefined, '*/*');
    try {
      return await res.blob();
    } catch (e) {
      throw toNetworkError(e, redactUrl(url), this.#opts.signal);
    }
  }

  /** Sends until the answer is not a 429 (or the policy gives up); returns a 2xx unread. */
  async #exchange(method: HttpMethod, url: string, body: unknown, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    const init: Parameters<KyInstance>[1] = {
      method,
      headers,
      timeout: this.#opts.timeoutMs ?? 60_000,
    };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (this.#opts.signal) init.signal = this.#opts.signal;
    const safeUrl = redactUrl(url);
    const now = this.#opts.now ?? Date.now;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.#auth.send(method.toUpperCase(), url, headers, (h) =>
          this.#ky(url, { ...init, headers: h }),
        );
      } catch (e) {
        // The cause may hold fetch internals; the message names the redacted URL only.
        throw toNetworkError(e, safeUrl, this.#opts.signal);
      }
      if (res.status >= 200 && res.status < 300) return res;
      let text = '';
      try {
        text = await res.text();
      } catch {
        // An error body cut off mid-way still leaves a status worth acting on.
      }
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
      if (res.status !== 429) throw apiHttpError(method, url, res.status, text, retryAfterMs);
      const delayMs = retryAfterMs ?? this.#backoffMs(attempt);
      if (attempt >= this.#retry.maxAttempts || delayMs > this.#retry.capMs)
        throw apiHttpError(method, url, 429, text, retryAfterMs);
      this.#opts.onRetry?.({ attempt, delayMs, status: 429, url: safeUrl });
      try {
        await this.#sleep(delayMs, this.#opts.signal);
      } catch (e) {
        throw toNetworkError(e, safeUrl, this.#opts.signal);
      }
    }
  }

  /** GET one JSON object. */
  async getObject<T>(url: string): Promise<T> {
    const r = await this.request('get', url);
    return expectObject<T>(r.json, url, r.status);
  }

  /** GET one list page and check its envelope. */
  async getPage<T>(url: string): Promise<ApiPage<T>> {
    const r = await this.request('get', url);
    return expectPage<T>(r.json, url, r.status);
  }

  /**
   * Every page from `firstUrl` on, following `meta.next` until it is null. Stops early on
   * an empty page or a link already visited, so a misbehaving server cannot loop forever.
   */
  async *pages<T>(firstUrl: string): AsyncGenerator<ApiPage<T>, void, undefined> {
    const seen = new Set<string>();
    let url: string | null = firstUrl;
    while (url !== null && !seen.has(url)) {
      seen.add(url);
      const page: ApiPage<T> = await this.getPage<T>(url);
      yield page;
      if (page.objects.length === 0 || page.meta.next === null) return;
      url = this.resolveLink(page.meta.next);
    }
  }
}

function badShape(what: string, url: string, status: number): HttpError {
  const safe = redactUrl(url);
  return new HttpError('bad-response', `${pathOf(safe)}: ${what}`, { status, url: safe });
}

export function expectObject<T>(json: unknown, url: string, status: number): T {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw badShape('the answer is not a JSON object', url, status);
  return json as T;
}

/** Checks tastypie's envelope: `meta` with numbers and links, `objects` an array. */
export function expectPage<T>(json: unknown, url: string, status: number): ApiPage<T> {
  const o = expectObject<Record<string, unknown>>(json, url, status);
  const meta = o.meta;
  if (typeof meta !== 'object' || meta === null || !Array.isArray(o.objects))
    throw badShape('the answer is not a meta/objects list', url, status);
  const m = meta as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const link = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    meta: {
      limit: num(m.limit),
      offset: num(m.offset) ?? 0,
      next: link(m.next),
      previous: link(m.previous),
      total_count: num(m.total_count) ?? o.objects.length,
    },
    objects: o.objects as T[],
  };
}
