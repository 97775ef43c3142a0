import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from '../core/platform.ts';

export interface LeanFetchOptions {
  /** Keep-alive sockets per origin (default 8). */
  maxSockets?: number;
}

/** Statuses whose Response may not carry a body (the Fetch standard's "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function requestBody(body: RequestInit['body']): Buffer | string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (body instanceof URLSearchParams) return body.toString();
  // FormData, Blob and streams have their own encodings: the caller uses fetch for those.
  throw new TypeError('leanFetch sends string, byte or URLSearchParams bodies only');
}

/**
 * Answers up to this size (by Content-Length) are read whole before the Response is
 * made, from a byte buffer: the receiver's OpenRosa answers are a few hundred bytes. The
 * fetch then settles only once the answer is complete, so the caller's timeout covers
 * the body too (a receiver answer stalled mid-body used to hold the outbox for ever in
 * `res.text()`), and no web stream is bridged per answer (CPU per warm request measured
 * the same within noise). Larger or unsized bodies are streamed.
 */
const BUFFERED_MAX = 64 * 1024;

/**
 * Resolves with a Response over the whole body once it has arrived. A body cut off (or
 * aborted) after the headers gives a Response whose body read fails, as fetch's would:
 * the status is still there to act on.
 */
function bufferedResponse(
  res: http.IncomingMessage,
  status: number,
  headers: Headers,
  signal: AbortSignal | undefined,
  resolve: (r: Response) => void,
): void {
  const chunks: Buffer[] = [];
  let done = false;
  const init = { status, statusText: res.statusMessage ?? '', headers };
  const finish = (failure?: unknown) => {
    if (done) return;
    done = true;
    signal?.removeEventListener('abort', onAbort);
    if (failure !== undefined) {
      const failed = new ReadableStream<Uint8Array>({ start: (c) => c.error(failure) });
      resolve(new Response(failed, init));
      return;
    }
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    // A Buffer's view is what fetch takes (a Uint8Array over its pooled ArrayBuffer).
    const bytes = body as unknown as Uint8Array<ArrayBuffer>;
    resolve(new Response(bytes.byteLength === 0 ? null : bytes, init));
  };
  const onAbort = () => {
    finish(signal?.reason);
    res.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => finish());
  res.on('error', (e) => finish(new TypeError('terminated', { cause: e })));
  res.on('close', () => {
    if (!res.complete) finish(new TypeError('terminated'));
  });
}

function requestHeaders(h: RequestInit['headers']): Record<string, string> {
  if (h === undefined) return {};
  if (h instanceof Headers) return Object.fromEntries(h.entries());
  if (Array.isArray(h)) return Object.fromEntries(h);
  return { ...(h as Record<string, string>) };
}

/**
 * A `fetch` for Node over `node:http` keep-alive sockets, for the client's hot paths (the
 * outbox drain sends one form per round trip, in order). Node's fetch (undici) builds a
 * Request, header lists and a body stream per call and wrote each request with its own
 * `writev`; here a request is one `write` of headers and body on a pooled socket, and the
 * answer is a standard Response streamed from the socket. It takes what the core sends
 * (string, bytes or URLSearchParams bodies, header records, an AbortSignal) and fails like
 * fetch: a TypeError when no answer arrived, the signal's reason when it aborted.
 * A Request object or a redirect-following call (ky's login, restore and API calls) is
 * handed to Node's fetch: redirects are never followed here.
 */
export function leanFetch(opts: LeanFetchOptions = {}): FetchLike & { close(): void } {
  // Nagle off: a request is one write, and it must leave at once, not wait for the
  // previous segment's ACK (the drain sends the next form right after an answer).
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 8, noDelay: true };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    // ky's calls (login, restore, API) hand over a Request and may ask redirects: those go
    // to Node's fetch; the lean path is the receiver POST the core sends as URL + init.
    if (input instanceof Request || (init.redirect !== undefined && init.redirect !== 'manual'))
      return globalThis.fetch(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let body: Buffer | string | undefined;
    try {
      body = requestBody(init.body);
    } catch (e) {
      return Promise.reject(e);
    }
    const headers = requestHeaders(init.headers);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const secure = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http },
        (res) => {
          signal?.removeEventListener('abort', onAbort);
          const h = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          const status = res.statusCode ?? 0;
          const noBody = NULL_BODY.has(status) || init.method === 'HEAD';
          const length = Number(res.headers['content-length']);
          if (!noBody && Number.isInteger(length) && length >= 0 && length <= BUFFERED_MAX) {
            bufferedResponse(res, status, h, signal, resolve);
            return;
          }
          const streamed = noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
          if (streamed === null) res.resume();
          // A signal fired after the headers ends the body's read, as fetch does.
          if (signal && streamed !== null)
            signal.addEventListener('abort', () => res.destroy(signal.reason as Error), { once: true });
          resolve(new Response(streamed, { status, statusText: res.statusMessage ?? '', headers: h }));
        },
      );
      const onAbort = () => req.destroy(signal?.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: e }));
      });
      req.end(body);
    });
  };
  return Object.assign(f, {
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  });
}
