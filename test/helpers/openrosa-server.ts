import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { APP_CSP } from '../../src/server/routes/static.ts';

/**
 * A small OpenRosa server that answers the way ODK Central does (central-backend
 * lib/http/endpoint.js, lib/formats/openrosa.js, lib/resources/forms.js and submissions.js),
 * for tests of fieldsim against a generic server:
 *
 * - one project, `/v1/projects/<id>/...` with Basic auth (a web user) or
 *   `/v1/key/<token>/projects/<id>/...` (an app user: the token is the credential);
 * - `X-OpenRosa-Version` other than `1.0` → 400, as Central's `openRosaPreprocessor`;
 * - `GET formList` (xformsList, `md5:` hashes, `manifestUrl` only for forms with media),
 *   `GET forms/<id>.xml`, `GET forms/<id>/manifest`, `GET forms/<id>/attachments/<name>`;
 * - `HEAD submission` → 204 with `X-OpenRosa-Accept-Content-Length`;
 * - `POST submission?deviceID=`: new instanceID → 201; the same XML again → 201 or 202 (Central
 *   treats an identical resend as a retry that may bring missing attachments); different
 *   XML under a known instanceID → 409; unknown form → 404; a revoked user or token → 403;
 * - messages rendered through mustache-style escaping (`/` → `&#x2F;`), as Central's
 *   templates do, so clients must decode numeric character references.
 */

export interface OpenRosaTestForm {
  formId: string;
  xml: string;
  media?: Record<string, string>;
}

export interface ReceivedSubmission {
  formId: string;
  instanceId: string;
  xml: string;
  deviceId: string | null;
  /** `basic:<user>` or `token:<token>`. */
  actor: string;
  attachments: string[];
}

export interface OpenRosaTestServer {
  url: string;
  projectId: number;
  /** `<url>/v1/projects/<id>` (Basic) */
  projectUrl: string;
  /** `<url>/v1/key/<token>/projects/<id>` for an app-user token. */
  appUserUrl(token: string): string;
  submissions: ReceivedSubmission[];
  /** Every request: method, path with query, X-OpenRosa-Version. */
  requests: { method: string; path: string; version: string | undefined; auth: boolean }[];
  users: Map<string, string>;
  tokens: Set<string>;
  /** Users and tokens answered 403 (revoked, or taken off the project). */
  revoked: Set<string>;
  /** Status of an identical resend: Central's 201 (default) or 202, which other servers use. */
  identicalResendStatus: 201 | 202;
  /** Answer the next N submissions with this status (e.g. 503) before working normally. */
  failNextSubmissions(status: number, count?: number): void;
  close(): Promise<void>;
}

const OR_NS = 'http://openrosa.org/http/response';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

/** The PWA's files, `index.html` for anything else (SPA fallback), under the app's CSP. */
function serveApp(root: string, path: string, res: ServerResponse): void {
  let file = normalize(join(root, path === '/' ? 'index.html' : path));
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile())
    file = join(root, 'index.html');
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-security-policy': APP_CSP,
    'cache-control': 'no-cache',
    ...(file.endsWith('sw.js') ? { 'service-worker-allowed': '/' } : {}),
  });
  res.end(readFileSync(file));
}

/** Mustache's HTML escaping, which Central's OpenRosa templates go through. */
function mustacheEscape(s: string): string {
  const map: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&quot;',
    "'": '&#39;',
    '/': '&#x2F;',
    '`': '&#x60;',
    '=': '&#x3D;',
  };
  return s.replace(/[&<>"'`=/]/g, (c) => map[c] ?? c);
}

function openRosaMessage(nature: string, message: string): string {
  return `\n  <OpenRosaResponse xmlns="${OR_NS}" items="0">\n    <message nature="${nature}">${mustacheEscape(message)}</message>\n  </OpenRosaResponse>`;
}

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

function rootInfo(xml: string): { formId: string | undefined; instanceId: string | undefined } {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const root = /^<[^\s>/]+([^>]*)>/.exec(body)?.[1] ?? '';
  return {
    formId: /\sid="([^"]*)"/.exec(root)?.[1],
    instanceId: /<(?:\w+:)?instanceID>([^<]+)<\/(?:\w+:)?instanceID>/.exec(body)?.[1]?.trim(),
  };
}

function titleOf(xml: string): string | undefined {
  return /<h:title>([^<]*)<\/h:title>/.exec(xml)?.[1];
}

function versionOf(xml: string): string {
  const m = /<instance>\s*<[^\s>]+[^>]*\sversion="([^"]*)"/.exec(xml);
  return m?.[1] ?? '';
}

export async function startOpenRosaServer(
  opts: {
    forms?: OpenRosaTestForm[];
    users?: Record<string, string>;
    tokens?: string[];
    projectId?: number;
    acceptContentLength?: number;
    /**
     * Also serve the built PWA (dist/) on this origin, under the app's own CSP
     * (`connect-src 'self'`), as a same-origin reverse proxy in front of Central would:
     * the deployment docs/pwa.md recommends, and the only way the PWA reaches the server.
     */
    staticDir?: string;
  } = {},
): Promise<OpenRosaTestServer> {
  const projectId = opts.projectId ?? 1;
  const forms = new Map((opts.forms ?? []).map((f) => [f.formId, f]));
  const users = new Map(Object.entries(opts.users ?? {}));
  const tokens = new Set(opts.tokens ?? []);
  const revoked = new Set<string>();
  const submissions: ReceivedSubmission[] = [];
  const requests: OpenRosaTestServer['requests'] = [];
  let failStatus = 0;
  let failCount = 0;
  let origin = '';

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'text/xml; charset=utf-8',
      'x-openrosa-version': '1.0',
      'x-openrosa-accept-content-length': String(opts.acceptContentLength ?? 100_000_000),
      ...headers,
    });
    res.end(body);
  };

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** The actor, or an answer already sent. */
  function authenticate(req: IncomingMessage, res: ServerResponse, token: string | undefined): string | null {
    if (token !== undefined) {
      if (revoked.has(token)) {
        send(
          res,
          403,
          openRosaMessage('error', 'The authenticated actor does not have rights to perform that action.'),
        );
        return null;
      }
      if (!tokens.has(token)) {
        send(res, 401, openRosaMessage('error', 'Could not authenticate with the provided credentials.'));
        return null;
      }
      return `token:${token}`;
    }
    const h = req.headers.authorization ?? '';
    const m = /^Basic (.+)$/.exec(h);
    const [user, ...rest] = m
      ? Buffer.from(m[1] ?? '', 'base64')
          .toString('utf8')
          .split(':')
      : [];
    if (user === undefined || users.get(user) !== rest.join(':')) {
      // No WWW-Authenticate challenge: Central does not follow OpenRosa's try/retry auth
      // pattern (docs.getodk.org/central-api-openrosa-endpoints); clients send Basic at once.
      send(res, 401, openRosaMessage('error', 'Could not authenticate with the provided credentials.'));
      return null;
    }
    if (revoked.has(user)) {
      send(
        res,
        403,
        openRosaMessage('error', 'The authenticated actor does not have rights to perform that action.'),
      );
      return null;
    }
    return `basic:${user}`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (opts.staticDir !== undefined && req.method === 'GET' && !url.pathname.startsWith('/v1/')) {
      serveApp(opts.staticDir, url.pathname, res);
      return;
    }
    const version = req.headers['x-openrosa-version'] as string | undefined;
    requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      version,
      auth: req.headers.authorization !== undefined,
    });
    const m = /^\/v1(?:\/key\/([^/]+))?\/projects\/(\d+)\/(.*)$/.exec(url.pathname);
    if (m === null || Number(m[2]) !== projectId) {
      send(res, 404, openRosaMessage('error', 'Could not find the resource you were looking for.'));
      return;
    }
    const token = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const rest = m[3] ?? '';
    const prefix =
      token === undefined ? `/v1/projects/${projectId}` : `/v1/key/${m[1]}/projects/${projectId}`;
    if (version !== '1.0') {
      // Central: Problem.user.invalidHeader, 400.
      await readBody(req);
      send(
        res,
        400,
        openRosaMessage(
          'error',
          `An expected header field (X-OpenRosa-Version) did not match the expected format. (got: ${version ?? ''})`,
        ),
      );
      return;
    }
    const actor = authenticate(req, res, token);
    if (actor === null) {
      await readBody(req);
      return;
    }
    if (req.method === 'GET' && rest === 'formList') {
      const entries = [...forms.values()].map((f) => {
        const base = `${origin}${prefix}/forms/${encodeURIComponent(f.formId)}`;
        const manifest = f.media ? `\n      <manifestUrl>${base}/manifest</manifestUrl>` : '';
        return `\n    <xform>\n      <formID>${f.formId}</formID>\n      <name>${titleOf(f.xml) ?? f.formId}</name>\n      <version>${versionOf(f.xml)}</version>\n      <hash>md5:${md5(f.xml)}</hash>\n      <downloadUrl>${base}.xml</downloadUrl>${manifest}\n    </xform>`;
      });
      send(
        res,
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n  <xforms xmlns="http://openrosa.org/xforms/xformsList">${entries.join('')}\n  </xforms>`,
      );
      return;
    }
    const fm = /^forms\/([^/]+?)(\.xml|\/manifest|\/attachments\/(.+))$/.exec(rest);
    if (req.method === 'GET' && fm !== null) {
      const form = forms.get(decodeURIComponent(fm[1] ?? ''));
      if (form === undefined) {
        send(res, 404, openRosaMessage('error', 'Could not find the resource you were looking for.'));
        return;
      }
      if (fm[2] === '.xml') {
        send(res, 200, form.xml);
        return;
      }
      if (fm[2] === '/manifest') {
        const files = Object.entries(form.media ?? {}).map(
          ([name, data]) =>
            `\n    <mediaFile>\n      <filename>${name}</filename>\n      <hash>md5:${md5(data)}</hash>\n      <downloadUrl>${origin}${prefix}/forms/${encodeURIComponent(form.formId)}/attachments/${encodeURIComponent(name)}</downloadUrl>\n    </mediaFile>`,
        );
        send(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n  <manifest xmlns="http://openrosa.org/xforms/xformsManifest">${files.join('')}\n  </manifest>`,
        );
        return;
      }
      const data = form.media?.[decodeURIComponent(fm[3] ?? '')];
      if (data === undefined)
        send(res, 404, openRosaMessage('error', 'Could not find the resource you were looking for.'));
      else send(res, 200, data, { 'content-type': 'application/octet-stream' });
      return;
    }
    if (rest === 'submission' && req.method === 'HEAD') {
      send(res, 204, '');
      return;
    }
    if (rest === 'submission' && req.method === 'POST') {
      const raw = await readBody(req);
      if (failCount > 0) {
        failCount--;
        send(res, failStatus, openRosaMessage('error', `Simulated failure ${failStatus}`));
        return;
      }
      let fd: FormData;
      try {
        fd = await new Request(`${origin}/`, {
          method: 'POST',
          body: new Uint8Array(raw),
          headers: { 'content-type': req.headers['content-type'] ?? '' },
        }).formData();
      } catch {
        send(res, 400, openRosaMessage('error', 'Multipart form content failed to parse.'));
        return;
      }
      const part = fd.get('xml_submission_file');
      if (part === null || typeof part === 'string') {
        send(res, 400, openRosaMessage('error', 'Required parameter xml_submission_file missing.'));
        return;
      }
      const xml = await part.text();
      const { formId, instanceId } = rootInfo(xml);
      if (formId === undefined || !forms.has(formId)) {
        send(res, 404, openRosaMessage('error', 'Could not find the resource you were looking for.'));
        return;
      }
      if (instanceId === undefined) {
        send(res, 400, openRosaMessage('error', 'Could not find instanceID in the submission.'));
        return;
      }
      const attachments = [...fd.keys()].filter((k) => k !== 'xml_submission_file');
      const known = submissions.find((s) => s.formId === formId && s.instanceId === instanceId);
      if (known !== undefined) {
        if (known.xml !== xml) {
          send(
            res,
            409,
            openRosaMessage('error', `A resource already exists with instanceID value(s) of ${instanceId}.`),
          );
          return;
        }
        for (const a of attachments) if (!known.attachments.includes(a)) known.attachments.push(a);
        send(res, api.identicalResendStatus, openRosaMessage('', 'full submission upload was successful!'));
        return;
      }
      submissions.push({
        formId,
        instanceId,
        xml,
        deviceId: url.searchParams.get('deviceID'),
        actor,
        attachments,
      });
      send(res, 201, openRosaMessage('', 'full submission upload was successful!'));
      return;
    }
    send(res, 404, openRosaMessage('error', 'Could not find the resource you were looking for.'));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, openRosaMessage('error', String(e)));
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api: OpenRosaTestServer = {
    url: origin,
    identicalResendStatus: 201,
    projectId,
    projectUrl: `${origin}/v1/projects/${projectId}`,
    appUserUrl: (token) => `${origin}/v1/key/${encodeURIComponent(token)}/projects/${projectId}`,
    submissions,
    requests,
    users,
    tokens,
    revoked,
    failNextSubmissions(status, count = 1) {
      failStatus = status;
      failCount = count;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
  return api;
}
