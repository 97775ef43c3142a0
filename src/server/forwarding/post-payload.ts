import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostAnswer {
  status: number;
  statusText: string;
  body: string;
}

/** At most this much of an answer is read (the log keeps 1000 characters). */
const READ_LIMIT = 64 * 1024;

/**
 * One forwarding POST over node:http with kept-alive connections. Node's fetch (undici)
 * cost several times more CPU per request on loopback, and forwarding shares the
 * emulator's event loop with the receiver. Rejects with the socket error (its `code`,
 * e.g. ECONNREFUSED) or a `TimeoutError`/`AbortError`.
 */
export class PayloadPoster {
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  readonly #https = new HttpsAgent({ keepAlive: true, maxSockets: 4 });

  post(
    url: URL,
    headers: Record<string, string>,
    body: string,
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<PostAnswer> {
    const secure = url.protocol === 'https:';
    const data = Buffer.from(body, 'utf8');
    return new Promise((resolve, reject) => {
      if (opts.signal.aborted) {
        reject(named('AbortError', 'stopped'));
        return;
      }
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: secure ? this.#https : this.#http,
        headers: { ...headers, 'Content-Length': String(data.length) },
      });
      const onAbort = () => req.destroy(named('AbortError', 'stopped'));
      opts.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => req.destroy(named('TimeoutError', 'timed out')), opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
      };
      req.once('error', (e) => {
        done();
        reject(e);
      });
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < READ_LIMIT) chunks.push(c);
          size += c.length;
        });
        res.once('end', () => {
          done();
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.once('error', (e) => {
          done();
          reject(e);
        });
      });
      req.end(data);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
