import { FieldsimError } from '../errors/fieldsim-error.ts';
import { basicAuthHeader } from '../http/basic-auth.ts';
import type { SubmitOutcome } from '../http/classify-response.ts';
import { httpErrorFor } from '../http/classify-response.ts';
import { HqClient, type SubmitRequest } from '../http/hq-client.ts';
import { toNetworkError } from '../http/is-network-error.ts';
import type { OutboxSender } from '../outbox/outbox.ts';
import { type Clock, type FetchLike, systemClock } from '../platform.ts';
import { md5Bytes, toHex } from '../store/md5.ts';
import { type FormListEntry, type ManifestFile, parseFormList, parseManifest } from './form-list.ts';
import { type OpenRosaEndpoints, openRosaEndpoints } from './openrosa-server-url.ts';

export interface OpenRosaClientOptions {
  /** The server's OpenRosa base (see `openRosaEndpoints`), or its formList/submission URL. */
  url: string;
  /** Basic credentials; leave both empty for a Central app-user link (token in the URL). */
  username?: string;
  password?: string;
  deviceId: string;
  fetch?: FetchLike;
  clock?: Clock;
  timeoutMs?: number;
}

/**
 * A client of a generic OpenRosa server (ODK Central, ODK Aggregate, Kobo), as ODK Collect
 * is: the Form List API, the XForm and its manifest, and submissions (through `HqClient`
 * in its generic mode, so the outbox can use this client as its sender).
 * Every request carries `X-OpenRosa-Version: 1.0` (the spec's only version; Central
 * refuses any other with 400).
 */
export class OpenRosaClient implements OutboxSender {
  readonly endpoints: OpenRosaEndpoints;
  readonly deviceId: string;
  readonly #fetch: FetchLike;
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #submitter: HqClient;

  constructor(opts: OpenRosaClientOptions) {
    this.endpoints = openRosaEndpoints(opts.url);
    this.deviceId = opts.deviceId;
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#clock = opts.clock ?? systemClock;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    const username = opts.username ?? '';
    const password = opts.password ?? '';
    this.#auth = username === '' && password === '' ? undefined : basicAuthHeader(username, password);
    this.#submitter = new HqClient({
      serverUrl: this.endpoints.baseUrl,
      domain: '',
      username,
      password,
      deviceId: opts.deviceId,
      fetch: this.#fetch,
      clock: this.#clock,
      submissionUrl: this.endpoints.submissionUrl,
      timeouts: { loginMs: this.#timeoutMs, submitMs: Math.max(this.#timeoutMs, 60_000) },
    });
  }

  /** `GET <base>/formList`: the forms this user may fill, in the server's order. */
  async formList(signal?: AbortSignal): Promise<FormListEntry[]> {
    return parseFormList(await this.#getText(this.endpoints.formListUrl, signal));
  }

  /**
   * The XForm definition. When the form list gave an `md5:` hash the bytes are checked
   * against it (Collect does the same before it replaces a form): a proxy's error page or
   * a form changed between list and download is refused, never filled.
   */
  async downloadForm(entry: FormListEntry, signal?: AbortSignal): Promise<string> {
    const bytes = await this.#getBytes(entry.downloadUrl, signal);
    const want = /^md5:([0-9a-f]{32})$/i.exec(entry.hash ?? '')?.[1]?.toLowerCase();
    if (want !== undefined) {
      const got = toHex(md5Bytes(bytes));
      if (got !== want)
        throw new FieldsimError(
          'bad-response',
          `Form ${entry.formId}: the download's md5 ${got} is not the form list's ${want}`,
        );
    }
    return new TextDecoder().decode(bytes);
  }

  /** The form's media list; empty for a form the list gave no `manifestUrl`. */
  async manifest(entry: FormListEntry, signal?: AbortSignal): Promise<ManifestFile[]> {
    if (entry.manifestUrl === undefined) return [];
    return parseManifest(await this.#getText(entry.manifestUrl, signal));
  }

  /** OpenRosa HEAD pre-flight on the submission URL (204 with the accepted length). */
  preflight(): Promise<number | undefined> {
    return this.#submitter.preflight();
  }

  /** One submission; the outcome as `HqClient.submit` classifies it (409 → conflict, 403 → auth). */
  submit(req: SubmitRequest): Promise<SubmitOutcome> {
    return this.#submitter.submit(req);
  }

  async #get(url: string, signal: AbortSignal | undefined): Promise<Response> {
    const headers: Record<string, string> = {
      'x-openrosa-version': '1.0',
      accept: 'text/xml, application/xml',
      date: new Date(this.#clock.now()).toUTCString(),
    };
    if (this.#auth !== undefined) headers.authorization = this.#auth;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const s = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    let res: Response;
    try {
      res = await this.#fetch(url, { method: 'GET', headers, signal: s });
    } catch (e) {
      throw toNetworkError(e, url, signal);
    }
    if (res.status !== 200) {
      const body = await res.text().catch(() => '');
      throw httpErrorFor({ status: res.status, url, headers: res.headers, body }, this.#clock.now());
    }
    return res;
  }

  async #getText(url: string, signal: AbortSignal | undefined): Promise<string> {
    return new TextDecoder().decode(await this.#getBytes(url, signal));
  }

  async #getBytes(url: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const res = await this.#get(url, signal);
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      // A body cut off mid-way: no usable answer arrived.
      throw toNetworkError(e, url, signal);
    }
  }
}
