import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Hono } from 'hono';
import type { Env } from '../context.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * The app's Content-Security-Policy (issue 6): only this origin's scripts, styles, images,
 * workers and requests, so a case property carrying markup can never load or run anything
 * even if some view rendered it as HTML. The PWA needs no inline script or style (checked
 * by test/e2e/app-shell.test.ts under the same policy).
 */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** Files whose name must stay stable and which must never be served stale. */
const NO_CACHE = new Set(['index.html', 'sw.js', 'registerSW.js', 'manifest.webmanifest']);

/**
 * Serves the built PWA (dist/) at `/` on the emulator's origin, so the app reaches the HQ
 * endpoints without CORS: known files with their content type, the service worker with
 * `Service-Worker-Allowed: /`, hashed assets cached for a year, and `index.html` for
 * any other GET outside `/a/` (SPA fallback).
 */
export function registerStatic(app: Hono<Env>, distDir: string): void {
  const root = resolve(distDir);
  const send = (file: string): Response => {
    const name = file.slice(file.lastIndexOf(sep) + 1);
    const headers: Record<string, string> = {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': APP_CSP,
    };
    // Content-hashed build output may be cached for good; everything else (index.html,
    // sw.js, the manifest, icons) is revalidated so an update is seen on the next load.
    headers['Cache-Control'] =
      file.startsWith(join(root, 'assets') + sep) && !NO_CACHE.has(name)
        ? 'public, max-age=31536000, immutable'
        : 'no-cache';
    if (name === 'sw.js') headers['Service-Worker-Allowed'] = '/';
    return new Response(readFileSync(file), { status: 200, headers });
  };
  app.get('*', (c, next) => {
    let path: string;
    try {
      path = decodeURIComponent(c.req.path);
    } catch {
      return c.text('Bad request', 400);
    }
    if (path.startsWith('/a/') || path.startsWith('/_fieldsim/')) return next();
    const file = insideRoot(root, path);
    if (file !== null && existsSync(file) && statSync(file).isFile()) return send(file);
    const index = join(root, 'index.html');
    // Missing files with an extension are real 404s; routes without one are the SPA's.
    if (extname(path) !== '' || !existsSync(index)) return c.text('Not found', 404);
    return send(index);
  });
}

/**
 * The file a decoded URL path names under `root`, or null when it leaves the folder.
 * Compared by whole path segments on the resolved path: a bare `startsWith(root)` let
 * `/..%2fdist-secret/x` (decoded after the router normalised the URL) reach a sibling
 * folder whose name starts with the root's.
 */
export function insideRoot(root: string, decodedPath: string): string | null {
  if (decodedPath.includes('\0')) return null;
  const file = resolve(root, `.${sep}${decodedPath}`);
  const rel = relative(root, file);
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return null;
  return file;
}
