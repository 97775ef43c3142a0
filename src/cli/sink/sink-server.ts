import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One payload the sink received (a line of `--out`). */
export interface SinkRecord {
  /** 1-based arrival number, counting refused ones. */
  n: number;
  /** Arrival time, ISO, and epoch ms. */
  at: string;
  atMs: number;
  method: string;
  /** Path and query as sent (`/forward?app_id=...`). */
  path: string;
  contentType: string;
  /** The status the sink answered. */
  status: number;
  /** The form id: `form_id` of a JSON body, else the `<instanceID>` of an XML form. */
  formId: string | null;
  /** The case id of a forwarded case (XML `case_id` attribute or JSON `case_id`). */
  caseId: string | null;
  body: string;
}

export interface SinkOptions {
  port?: number;
  host?: string;
  /** Answer the first N requests with `failStatus` (a receiver that is failing, then recovers). */
  failFirst?: number;
  failStatus?: number;
  /** Wait this long before answering each request, ms. */
  delayMs?: number;
  /** Append each accepted record to this file as a JSON line. */
  out?: string;
  /** Called after N accepted payloads (the CLI exits). */
  count?: number;
  onCount?: () => void;
  /** Keep each record (with its body) in `records` (default true; the runner and the bench keep only ids and times). */
  keepBodies?: boolean;
}

export class SinkOptionError extends Error {
  override readonly name = 'SinkOptionError';
  readonly code = 'sink-option' as const;
}

const INSTANCE_ID_RE = /<(?:[A-Za-z_][\w.-]*:)?instanceID>\s*([^<\s]+)\s*</;
const CASE_ID_RE = /<case\b[^>]*\bcase_id="([^"]+)"/;

function idsOf(contentType: string, body: string): { formId: string | null; caseId: string | null } {
  if (contentType.includes('json')) {
    try {
      const j = JSON.parse(body) as { form_id?: unknown; case_id?: unknown };
      return {
        formId: typeof j.form_id === 'string' ? j.form_id : null,
        caseId: typeof j.case_id === 'string' ? j.case_id : null,
      };
    } catch {
      return { formId: null, caseId: null };
    }
  }
  const form = INSTANCE_ID_RE.exec(body);
  const kase = form ? null : CASE_ID_RE.exec(body);
  return { formId: form?.[1] ?? null, caseId: kase?.[1] ?? null };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A receiver for forwarded data (`fieldsim sink`, issue 14): answers 200 to each POST and
 * records it, or fails on purpose (`failFirst`/`failStatus`, `delayMs`) to exercise the
 * emulator's retries. `stop()` then `start()` on the same port simulates an outage.
 */
export class Sink {
  readonly records: SinkRecord[] = [];
  readonly options: SinkOptions;
  /** Form id → first arrival time (epoch ms), for latency checks. */
  readonly firstArrival = new Map<string, number>();
  /** Form id → times received (a forwarded duplicate shows as 2). */
  readonly formCount = new Map<string, number>();
  #server: Server | null = null;
  #seen = 0;
  #accepted = 0;
  #port: number;

  constructor(options: SinkOptions = {}) {
    const failStatus = options.failStatus ?? 503;
    if (!Number.isInteger(failStatus) || failStatus < 300 || failStatus > 599)
      throw new SinkOptionError(
        `--fail-status must be an HTTP status from 300 to 599, not ${options.failStatus}`,
      );
    for (const [k, v] of [
      ['--fail-first', options.failFirst],
      ['--delay', options.delayMs],
      ['--count', options.count],
    ] as const)
      if (v !== undefined && (!Number.isInteger(v) || v < 0))
        throw new SinkOptionError(`${k} must be a whole number >= 0, not ${v}`);
    this.options = { ...options, failStatus };
    this.#port = options.port ?? 0;
  }

  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.#port}/`;
  }

  get port(): number {
    return this.#port;
  }

  /** Payloads answered 2xx. */
  get accepted(): number {
    return this.#accepted;
  }

  start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.#handle(req).then(
        (status) => {
          res.writeHead(status, { 'Content-Type': 'text/plain' });
          // The callback fires once the answer is written, so a sink that stops at
          // `count` still answers the last payload.
          res.end(status < 300 ? 'ok' : 'failing on purpose', () => {
            if (status < 300 && this.options.count !== undefined && this.#accepted === this.options.count)
              this.options.onCount?.();
          });
        },
        () => {
          res.writeHead(400);
          res.end();
        },
      );
    });
    server.keepAliveTimeout = 75_000;
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.options.host ?? '127.0.0.1', () => {
        this.#port = (server.address() as AddressInfo).port;
        resolve(this.url);
      });
    });
  }

  stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage): Promise<number> {
    const body = await readBody(req);
    const o = this.options;
    if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
    const n = ++this.#seen;
    const status = n <= (o.failFirst ?? 0) ? (o.failStatus ?? 503) : 200;
    if (req.method !== 'POST') return 405;
    const now = Date.now();
    const contentType = req.headers['content-type'] ?? '';
    const rec: SinkRecord = {
      n,
      at: new Date(now).toISOString(),
      atMs: now,
      method: req.method,
      path: req.url ?? '/',
      contentType,
      status,
      ...idsOf(contentType, body),
      body: o.keepBodies === false ? '' : body,
    };
    if (status < 300) {
      this.#accepted++;
      if (rec.formId !== null) {
        if (!this.firstArrival.has(rec.formId)) this.firstArrival.set(rec.formId, now);
        this.formCount.set(rec.formId, (this.formCount.get(rec.formId) ?? 0) + 1);
      }
      if (o.keepBodies !== false) this.records.push(rec);
      if (o.out) appendFileSync(o.out, `${JSON.stringify(rec)}\n`);
    }
    return status;
  }
}
