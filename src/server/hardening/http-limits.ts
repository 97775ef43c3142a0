import type { Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Env } from '../context.ts';

/** SSO takes two form fields: a username and a password. */
export const SSO_BODY_LIMIT = 64 * 1024;
/** JSON API and admin bodies: user records, fault specs, toggles. */
export const JSON_BODY_LIMIT = 1024 * 1024;

const limited = (limit: number): MiddlewareHandler<Env> =>
  bodyLimit({
    maxSize: limit,
    onError: (c) =>
      c.json({ error: `The request body is larger than ${limit} bytes.`, code: 'body-too-large' }, 413),
  });

const isSso = (path: string): boolean => /\/api\/v0\.[45]\/sso\//.test(path);

/**
 * Request-level hardening, registered before every route:
 * - bodies of SSO (no credentials needed) and of every JSON route are capped, so a huge
 *   body is refused with 413 as soon as its Content-Length is seen, or as soon as a
 *   chunked body passes the cap, instead of being buffered whole. The receiver streams
 *   its own body and enforces HQ's upload limits itself.
 * - restore and API answers carry `Cache-Control: no-store`: they hold case data, which
 *   must not stay in a browser's HTTP cache (the disk cache is not encrypted).
 */
export function registerHttpLimits(app: Hono<Env>): void {
  const sso = limited(SSO_BODY_LIMIT);
  const json = limited(JSON_BODY_LIMIT);
  app.use('/a/:domain/api/*', (c, next) => (isSso(c.req.path) ? sso(c, next) : json(c, next)));
  app.use('/a/:domain/fieldsim/*', json);
  app.use('/a/:domain/phone/restore/*', noStore);
  app.use('/a/:domain/phone/restore', noStore);
  app.use('/a/:domain/api/*', noStore);
  app.use('/a/:domain/fieldsim/*', noStore);
}

const noStore: MiddlewareHandler<Env> = async (c, next) => {
  await next();
  try {
    c.res.headers.set('Cache-Control', 'no-store');
  } catch {
    // A response with immutable headers (a proxied one) is rebuilt around the same body.
    const res = new Response(c.res.body, c.res);
    res.headers.set('Cache-Control', 'no-store');
    c.res = res;
  }
};
