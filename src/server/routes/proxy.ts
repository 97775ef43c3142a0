import type { Hono } from 'hono';
import type { Env } from '../context.ts';

/** Hop-by-hop headers (RFC 9110 7.6.1) and ones the runtime recomputes. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/**
 * Proxy mode (`--upstream URL`): forwards `/a/...` to a real HQ unchanged, streaming both
 * ways, so the PWA served here runs same-origin against HQ (which sends no CORS headers
 * on phone endpoints). Credentials pass through untouched and are never logged.
 */
export function registerProxy(app: Hono<Env>, upstream: string): void {
  const base = new URL(upstream);
  app.all('/a/*', async (c) => {
    const incoming = new URL(c.req.url);
    const target = new URL(incoming.pathname + incoming.search, base);
    const headers = new Headers();
    for (const [k, v] of c.req.raw.headers) if (!HOP.has(k.toLowerCase())) headers.set(k, v);
    const method = c.req.method;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual' };
    if (hasBody) {
      init.body = c.req.raw.body;
      init.duplex = 'half';
    }
    let res: Response;
    try {
      res = await fetch(target, init);
    } catch (e) {
      return c.text(
        `Upstream ${base.origin} unreachable: ${e instanceof Error ? e.message : String(e)}`,
        502,
      );
    }
    const out = new Headers();
    for (const [k, v] of res.headers)
      if (!HOP.has(k.toLowerCase()) && k.toLowerCase() !== 'content-encoding') out.set(k, v);
    // fetch() has already decoded any Content-Encoding, so the body is sent as plain bytes.
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  });
}
