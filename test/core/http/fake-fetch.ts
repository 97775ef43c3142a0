import type { FetchLike } from '../../../src/core/platform.ts';

export interface Recorded {
  url: string;
  method: string;
  headers: Headers;
  body: FormData | string | null;
}

export type Responder = (req: Recorded) => Response | Promise<Response>;

/** A fetch that records each request (body read as FormData or text) and answers from `responder`. */
export function fakeFetch(responder: Responder): FetchLike & { calls: Recorded[] } {
  const calls: Recorded[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const ct = req.headers.get('content-type') ?? '';
    let body: FormData | string | null = null;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      body = ct.startsWith('multipart/form-data') ? await req.formData() : await req.text();
    }
    const rec: Recorded = { url: req.url, method: req.method, headers: req.headers, body };
    calls.push(rec);
    return responder(rec);
  };
  return Object.assign(f, { calls });
}

export function openRosa(nature: string, text: string): string {
  return `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="${nature}">${text}</message></OpenRosaResponse>`;
}
