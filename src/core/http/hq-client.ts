import ky, { type KyInstance } from 'ky';
import { FieldsimError } from '../errors/fieldsim-error.ts';
import { HttpError } from '../errors/http-error.ts';
import type { NetworkError } from '../errors/network-error.ts';
import { type Clock, type FetchLike, systemClock } from '../platform.ts';
import { type KeyRecordSet, parseKeyRecords } from '../protocol/key-records.ts';
import { tryParseOpenRosaResponse } from '../protocol/openrosa-response.ts';
import { apiKeyAuthHeader, basicAuthHeader, fullUsername } from './basic-auth.ts';
import {
  classifySubmitResponse,
  httpErrorFor,
  type ResponseSnapshot,
  type SubmitOutcome,
} from './classify-response.ts';
import { type AuthMode, ClientAuth } from './client-auth.ts';
import { toNetworkError } from './is-network-error.ts';
import { parseRetryAfter } from './retry-after.ts';

/**
 * The phone side of HQ's HTTP endpoints: SSO login, OTA restore and the form receiver,
 * over an injected fetch (the PWA passes the browser's, tests a fake, the CLI Node's).
 *
 * ky brings timeouts and header/URL handling; its automatic retries are off everywhere:
 * a POST must never be repeated behind the outbox's back (it alone decides, with the
 * same bytes), and the restore flow has its own 202/429/503 policy (sync/).
 */

export interface HqClientOptions {
  /** Base URL of HQ or the emulator, e.g. `http://127.0.0.1:8000` (no trailing `/a/...`). */
  serverUrl: string;
  domain: string;
  /** Short (`worker1`) or full (`worker1@demo.commcarehq.org`) username. */
  username: string;
  password: string;
  /**
   * An HQ API key: restore and receiver then send `ApiKey <username>:<key>` instead of
   * Basic (PROTOCOL.md 2.3). SSO `login()` takes only a password, so it refuses to run.
   */
  apiKey?: string;
  deviceId: string;
  fetch?: FetchLike;
  clock?: Clock;
  /** Sent as `x-openrosa-commcare-version` like CommCare Android does. */
  appVersion?: string;
  /**
   * `X-OpenRosa-Version`. `3.0` (the default for HQ) selects HQ's v3 receiver contract (422
   * instead of 201 submit_error); with `submissionUrl` the default is `1.0`, the only value
   * the OpenRosa specs define and the only one ODK Central accepts (its OpenRosa endpoints
   * answer any other value with 400 "invalid header", central-backend lib/http/endpoint.js
   * `openRosaPreprocessor`).
   */
  openRosaVersion?: string;
  timeouts?: { loginMs?: number; restoreMs?: number; submitMs?: number };
  /**
   * Absolute URL of a generic OpenRosa submission endpoint, used instead of HQ's
   * `/a/<domain>/receiver/` for the POST and the HEAD pre-flight: e.g. ODK Central's
   * `https://central.example/v1/key/<token>/projects/1/submission` or ODK Aggregate's
   * `https://aggregate.example/submission` (OpenRosa Form Submission API).
   *
   * Setting it makes this a client of a generic OpenRosa server, as ODK Collect is:
   * `X-OpenRosa-Version: 1.0` (see `openRosaVersion`), `?deviceID=<deviceId>` on the URL
   * (Collect's `InstanceServerUploader`; Central stores it as the submission's device id),
   * the username sent as typed (no `@<domain>.commcarehq.org`), and no Authorization header
   * when username and password are both empty (a Central app-user token URL carries the
   * credential in its path).
   */
  submissionUrl?: string;
  /**
   * Web Apps' "login as": every restore carries `as=<worker>` (short names expanded to
   * `<name>@<domain>.commcarehq.org`, as formplayer's `RestoreFactory.getUserRestoreUrl`
   * does) while the credentials stay the web user's (PROTOCOL.md 3.2).
   */
  restoreAs?: string;
  /**
   * `basic` (default): Basic (or ApiKey) sent with every request, and a Digest challenge
   * answered when a server sends one. `digest`: HTTP Digest only (RFC 7616, MD5/SHA-256),
   * as CommCare's J2ME phones authenticated; the password is never sent.
   */
  auth?: AuthMode;
}

/** The SSO answer for a mobile worker (hq:docs/api/openapi/components/schemas/sso.yaml). */
export interface SsoUser {
  id: string;
  /** Full username as HQ returns it. */
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  groups: string[];
  userData: Record<string, string>;
}

export interface RestoreRequest {
  /** Previous `<restore_id>`; absent for a full restore. */
  since?: string;
  /** Case-state hash, hex, without the `ccsh:` prefix (empty for no cases). */
  stateHash?: string;
  /** For `user_id=` (412 when HQ's user id differs: user deleted and recreated). */
  userId?: string;
  overwriteCache?: boolean;
  signal?: AbortSignal;
}

export type RestoreResponse =
  | { status: 'ok'; body: ReadableStream<Uint8Array>; bytesTotal?: number }
  /** 202 async restore: wait `retryAfterMs`, then ask again (PROTOCOL.md 3.5). */
  | { status: 'pending'; retryAfterMs: number; progress?: { done: number; total: number }; message?: string };

export interface SubmitAttachment {
  /** The multipart part name, which is how the XML refers to the file (PROTOCOL.md 7.2). */
  name: string;
  blob: Blob;
}

export interface SubmitRequest {
  xml: string;
  attachments?: SubmitAttachment[];
  lastSyncToken?: string | null;
  /** For `/receiver/<app_id>/`, which tags the form with the app/build. */
  appId?: string;
  signal?: AbortSignal;
}

/** HQ's limits (`MAX_UPLOAD_SIZE`, `MAX_UPLOAD_SIZE_ATTACHMENT` in settings.py; PROTOCOL.md 7.3). */
export const HQ_SUBMISSION_LIMITS = {
  xmlBytes: 10 * 1024 * 1024,
  attachmentBytes: 15 * 1024 * 1024,
} as const;

/** HQ's default wait when a 202 carries no usable Retry-After (`ASYNC_RETRY_AFTER`, phone/const.py). */
const DEFAULT_ASYNC_RETRY_MS = 5_000;

export class HqClient {
  readonly serverUrl: string;
  readonly domain: string;
  /** The username sent in Basic auth: always the full form. */
  readonly username: string;
  readonly deviceId: string;
  readonly #password: string;
  readonly #ky: KyInstance;
  readonly #fetch: FetchLike;
  readonly #clock: Clock;
  readonly #opts: HqClientOptions;
  readonly #auth: ClientAuth;

  constructor(opts: HqClientOptions) {
    this.serverUrl = opts.serverUrl.replace(/\/+$/, '');
    this.domain = opts.domain;
    this.username =
      opts.submissionUrl === undefined ? fullUsername(opts.username, opts.domain) : opts.username;
    this.deviceId = opts.deviceId;
    this.#password = opts.password;
    this.#clock = opts.clock ?? systemClock;
    this.#opts = opts;
    const f: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#fetch = f;
    this.#ky = ky.create({
      fetch: f,
      retry: 0,
      throwHttpErrors: false,
      redirect: 'follow',
      // Restores and API answers hold case data: never left in the browser's HTTP cache.
      cache: 'no-store',
    });
    this.#auth = new ClientAuth({
      mode: opts.auth ?? 'basic',
      upfront:
        opts.apiKey !== undefined
          ? apiKeyAuthHeader(this.username, opts.apiKey)
          : // A generic server's token URL (ODK Central app users) carries the credential
            // itself: no Authorization header when no username or password was given.
            opts.submissionUrl !== undefined && this.username === '' && this.#password === ''
            ? undefined
            : basicAuthHeader(this.username, this.#password),
      username: this.username,
      // An API key replaces the password: Digest is not attempted with one.
      ...(opts.apiKey === undefined ? { password: opts.password } : {}),
    });
  }

  #url(path: string): string {
    return `${this.serverUrl}/a/${encodeURIComponent(this.domain)}/${path}`;
  }

  /** `submissionUrl` with `deviceID=` added (kept if the URL already names one). */
  #genericSubmissionUrl(): string | undefined {
    const raw = this.#opts.submissionUrl;
    if (raw === undefined) return undefined;
    const u = new URL(raw);
    if (!u.searchParams.has('deviceID')) u.searchParams.set('deviceID', this.deviceId);
    return u.toString();
  }

  #openRosaHeaders(lastSyncToken?: string | null): Record<string, string> {
    // The headers CommCare Android and formplayer send (PROTOCOL.md 3.3, 7.2).
    // `authorization` is set per request by `#auth` (Basic/ApiKey, or Digest).
    const h: Record<string, string> = {
      'x-openrosa-version':
        this.#opts.openRosaVersion ?? (this.#opts.submissionUrl === undefined ? '3.0' : '1.0'),
      'x-openrosa-deviceid': this.deviceId,
    };
    if (this.#opts.appVersion !== undefined) h['x-openrosa-commcare-version'] = this.#opts.appVersion;
    if (lastSyncToken) h['x-commcarehq-lastsynctoken'] = lastSyncToken;
    return h;
  }

  async #snapshot(res: Response, url: string): Promise<ResponseSnapshot> {
    let body = '';
    try {
      body = await res.text();
    } catch {
      // A body cut off mid-way still leaves a status worth acting on.
    }
    return { status: res.status, url, headers: res.headers, body };
  }

  async #send(url: string, init: Parameters<KyInstance>[1], signal?: AbortSignal): Promise<Response> {
    try {
      return await this.#ky(url, signal === undefined ? init : { ...init, signal });
    } catch (e) {
      throw toNetworkError(e, url, signal) satisfies NetworkError;
    }
  }

  /**
   * `POST /a/<domain>/api/v0.5/sso/`, form-encoded `username`/`password`, no Authorization
   * header (PROTOCOL.md 1). HQ answers 403 with an empty body for any bad credential, so
   * 403 here means `auth-invalid`, not `forbidden`.
   */
  async login(signal?: AbortSignal): Promise<SsoUser> {
    if (this.#opts.apiKey !== undefined)
      throw new FieldsimError('invalid-argument', "HQ's SSO login takes a password, not an API key");
    const url = this.#url('api/v0.5/sso/');
    const res = await this.#send(
      url,
      {
        method: 'post',
        body: new URLSearchParams({ username: this.username, password: this.#password }),
        timeout: this.#opts.timeouts?.loginMs ?? 30_000,
        headers: { accept: 'application/json' },
      },
      signal,
    );
    const snap = await this.#snapshot(res, url);
    if (res.status === 403)
      throw new HttpError('auth-invalid', 'Unknown user or wrong password', { status: 403, url });
    if (res.status !== 200) throw httpErrorFor(snap, this.#clock.now());
    return parseSsoUser(snap);
  }

  /**
   * `GET /a/<domain>/phone/restore/` with the parameters and headers CommCare Android sends
   * (`CommcareRequestGenerator.makeCaseFetchRequest`; PROTOCOL.md 3.2-3.3). The 200 body is
   * handed back unread, as a stream, for the streaming parser. Throws `HttpError` for
   * 401/406/412/429/503/5xx and the rest (codes in `httpErrorFor`), `NetworkError` when no
   * answer arrived.
   */
  async restore(req: RestoreRequest = {}): Promise<RestoreResponse> {
    const params = new URLSearchParams({ version: '2.0', items: 'true', device_id: this.deviceId });
    if (req.since) {
      params.set('since', req.since);
      // `state` is only checked alongside `since`; an empty hash is sent as `ccsh:` for a
      // device holding no cases, as Android does (PROTOCOL.md 3.6).
      if (req.stateHash !== undefined) params.set('state', `ccsh:${req.stateHash}`);
    }
    if (req.userId) params.set('user_id', req.userId);
    if (req.overwriteCache) params.set('overwrite_cache', 'true');
    if (this.#opts.restoreAs) params.set('as', fullUsername(this.#opts.restoreAs, this.domain));
    const url = `${this.#url('phone/restore/')}?${params.toString()}`;
    const res = await this.#auth.send('GET', url, this.#openRosaHeaders(req.since ?? null), (headers) =>
      this.#send(
        url,
        { method: 'get', headers, timeout: this.#opts.timeouts?.restoreMs ?? 120_000 },
        req.signal,
      ),
    );
    if (res.status === 200) {
      if (res.body === null)
        throw new HttpError('bad-response', 'The restore answer has no body', { status: 200, url });
      const body = holdingResponse(res, res.body);
      const len = Number(res.headers.get('content-length'));
      return Number.isFinite(len) && len > 0
        ? { status: 'ok', body, bytesTotal: len }
        : { status: 'ok', body };
    }
    const snap = await this.#snapshot(res, url);
    if (res.status === 202) {
      const or = tryParseOpenRosaResponse(snap.body);
      const header = parseRetryAfter(res.headers.get('retry-after'), this.#clock.now());
      const attr = or?.progress?.retryAfterSeconds;
      const retryAfterMs =
        header !== undefined && header > 0
          ? header
          : attr !== undefined && attr > 0
            ? attr * 1000
            : DEFAULT_ASYNC_RETRY_MS;
      const out: RestoreResponse = { status: 'pending', retryAfterMs };
      if (or?.progress) out.progress = { done: or.progress.done, total: or.progress.total };
      if (or?.message !== undefined) out.message = or.message;
      return out;
    }
    throw httpErrorFor(snap, this.#clock.now());
  }

  /**
   * `GET /a/<domain>/phone/keys/` (HQ's `fetch_key_records`, the app profile's
   * `key_server`): the user's mobile key records, with `last_issued` so a record the
   * device already used is returned again while it is valid (protocol/key-records.ts).
   * null when the server offers none (401/403/404: a generic server, or no such view).
   */
  async keyRecords(lastIssued?: string, signal?: AbortSignal): Promise<KeyRecordSet | null> {
    const params = new URLSearchParams({ device_id: this.deviceId });
    if (lastIssued !== undefined) params.set('last_issued', lastIssued);
    const url = `${this.#url('phone/keys/')}?${params.toString()}`;
    const res = await this.#auth.send('GET', url, this.#openRosaHeaders(), (headers) =>
      this.#send(url, { method: 'get', headers, timeout: this.#opts.timeouts?.loginMs ?? 30_000 }, signal),
    );
    const snap = await this.#snapshot(res, url);
    if (res.status === 401 || res.status === 403 || res.status === 404) return null;
    if (res.status !== 200) throw httpErrorFor(snap, this.#clock.now());
    return parseKeyRecords(snap.body, this.domain);
  }

  /**
   * OpenRosa pre-flight: `HEAD` on the receiver, whose 204 carries
   * `X-OpenRosa-Accept-Content-Length` (OpenRosa Form Submission API; ODK Aggregate and
   * Central answer it). HQ has no HEAD handler (PROTOCOL.md 7.1: `@require_POST`, so 405),
   * in which case this resolves `undefined` and HQ's fixed limits apply. Never throws for
   * HTTP or network failures: the pre-flight is advisory.
   */
  async preflight(signal?: AbortSignal): Promise<number | undefined> {
    const url = this.#genericSubmissionUrl() ?? this.#url('receiver/');
    try {
      const res = await this.#auth.send('HEAD', url, this.#openRosaHeaders(), (headers) =>
        this.#send(url, { method: 'head', headers, timeout: this.#opts.timeouts?.loginMs ?? 30_000 }, signal),
      );
      if (res.status !== 204 && res.status !== 200) return undefined;
      const v = Number(res.headers.get('x-openrosa-accept-content-length'));
      return Number.isFinite(v) && v > 0 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * `POST /a/<domain>/receiver/` as multipart: the instance in part `xml_submission_file`
   * with a `.xml` filename (HQ answers 422 otherwise), attachments as further file parts
   * named as the XML refers to them (PROTOCOL.md 7.2). Never throws for HTTP statuses or
   * network failures: the outbox acts on the returned outcome. Throws only when `signal`
   * aborted the request.
   */
  async submit(req: SubmitRequest): Promise<SubmitOutcome> {
    let snap: ResponseSnapshot;
    try {
      snap = await this.#submitSnapshot(req);
    } catch (e) {
      if (!(e instanceof FieldsimError) || e.code === 'aborted') throw e;
      return { status: 'retry', code: e.code, message: e.message };
    }
    return classifySubmitResponse(snap, this.#clock.now());
  }

  /**
   * The receiver's answer to one form, read but not classified: for callers that need
   * the body itself (a user registration answers with the registered user). Throws
   * `NetworkError` when no answer arrived.
   */
  async submitForResponse(req: SubmitRequest): Promise<ResponseSnapshot> {
    return this.#submitSnapshot(req);
  }

  async #submitSnapshot(req: SubmitRequest): Promise<ResponseSnapshot> {
    const path = req.appId ? `receiver/${encodeURIComponent(req.appId)}/` : 'receiver/';
    const url = this.#genericSubmissionUrl() ?? this.#url(path);
    const { body, contentType } = await multipartBody([
      { name: 'xml_submission_file', filename: 'form.xml', type: 'text/xml', data: req.xml },
      ...(req.attachments ?? []).map((a) => ({
        name: a.name,
        filename: a.name,
        type: a.blob.type || 'application/octet-stream',
        data: a.blob,
      })),
    ]);
    const headers = this.#openRosaHeaders(req.lastSyncToken ?? null);
    headers['content-type'] = contentType;
    // HQ stores `Date` as the form's `date_header` (PROTOCOL.md 7.2). Browsers drop it as a
    // forbidden header; Node sends it.
    headers.date = new Date(this.#clock.now()).toUTCString();
    let res: Response;
    try {
      res = await this.#auth.send('POST', url, headers, (h) =>
        this.#post(url, body, h, this.#opts.timeouts?.submitMs ?? 60_000, req.signal),
      );
    } catch (e) {
      throw toNetworkError(e, url, req.signal) satisfies NetworkError;
    }
    return this.#snapshot(res, url);
  }

  /**
   * A POST straight through the injected fetch, for the outbox's hot path: ky builds a
   * second Request and merges options on every call (about a quarter of the client's CPU
   * per form when draining), and a POST that is never retried needs none of it. The
   * timeout (until the answer's headers, as ky's) aborts with a `TimeoutError`; the
   * caller's signal is followed.
   */
  async #post(
    url: string,
    body: Uint8Array<ArrayBuffer>,
    headers: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new DOMException('The request timed out', 'TimeoutError'));
    }, timeoutMs);
    const follow = () => ac.abort(signal?.reason);
    if (signal?.aborted) follow();
    else signal?.addEventListener('abort', follow, { once: true });
    // Raced as well as signalled (as ky does): an injected fetch that ignores the signal
    // must not hold the outbox past its timeout.
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(ac.signal.reason);
      if (ac.signal.aborted) fail();
      else ac.signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => {});
    try {
      return await Promise.race([
        this.#fetch(url, { method: 'POST', body, headers, signal: ac.signal, cache: 'no-store' }),
        aborted,
      ]);
    } catch (e) {
      // Whatever the platform rejects with on our own abort, a fired timer is a timeout.
      throw timedOut && !signal?.aborted ? new DOMException('The request timed out', 'TimeoutError') : e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', follow);
    }
  }
}

/**
 * The body of `res`, locked at once and read through a stream that keeps `res` reachable
 * until the body has been read to its end (or cancelled). Node's fetch (undici) cancels
 * the body of a Response that is garbage collected while the body is neither locked nor
 * read, and the caller keeps only the stream and starts reading it after a few awaits
 * (the ingest prepares the database first): under GC pressure, e.g. a thousand workers in
 * one process, a restore would then read as an empty payload. Browsers never do this;
 * the wrapper costs one extra read per chunk.
 */
function holdingResponse(res: Response, source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const underlying: UnderlyingDefaultSource<Uint8Array> & { response: Response | null } = {
    // Never read: holding it is the point. The stream keeps its underlying source.
    response: res,
    async pull(controller) {
      const r = await reader.read();
      if (r.done) {
        underlying.response = null;
        controller.close();
      } else controller.enqueue(r.value);
    },
    cancel(reason) {
      underlying.response = null;
      return reader.cancel(reason);
    },
  };
  // Pull only when the consumer reads: undici already buffers; no second queue.
  return new ReadableStream<Uint8Array>(underlying, { highWaterMark: 0 });
}

/** `"`, CR and LF percent-encoded in multipart names, as the WHATWG FormData encoder does. */
function headerValue(v: string): string {
  return v.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * A `multipart/form-data` body (RFC 7578), equivalent to FormData on the wire, built as ONE
 * byte array. FormData through Request/ky costs several times more per request, and a
 * Blob of parts is streamed by fetch one part per socket write: four writes per form,
 * each waking the server, where one write carries the whole request (outbox drain
 * throughput, issue 4).
 */
async function multipartBody(
  parts: { name: string; filename: string; type: string; data: string | Blob }[],
): Promise<{ body: Uint8Array<ArrayBuffer>; contentType: string }> {
  const rnd = crypto.getRandomValues(new Uint8Array(12));
  const boundary = `----fieldsim${Array.from(rnd, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    chunks.push(
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${headerValue(p.name)}"; filename="${headerValue(p.filename)}"\r\nContent-Type: ${p.type}\r\n\r\n`,
      ),
      typeof p.data === 'string' ? enc.encode(p.data) : new Uint8Array(await p.data.arrayBuffer()),
      enc.encode('\r\n'),
    );
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

function parseSsoUser(snap: ResponseSnapshot): SsoUser {
  let json: unknown;
  try {
    json = JSON.parse(snap.body);
  } catch {
    throw new HttpError(
      'bad-response',
      'The SSO answer is not JSON',
      { status: snap.status, url: snap.url },
      false,
    );
  }
  if (json === null || typeof json !== 'object')
    throw new HttpError('bad-response', 'The SSO answer is not a JSON object', {
      status: snap.status,
      url: snap.url,
    });
  const o = json as Record<string, unknown>;
  const id = str(o.id);
  if (id === '')
    throw new HttpError('bad-response', 'The SSO answer has no user id', {
      status: snap.status,
      url: snap.url,
    });
  const userData: Record<string, string> = {};
  if (o.user_data !== null && typeof o.user_data === 'object')
    for (const [k, v] of Object.entries(o.user_data as Record<string, unknown>)) userData[k] = str(v);
  return {
    id,
    username: str(o.username),
    firstName: str(o.first_name),
    lastName: str(o.last_name),
    email: str(o.email),
    groups: Array.isArray(o.groups) ? o.groups.map(str) : [],
    userData,
  };
}
