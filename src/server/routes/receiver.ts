import type { Hono } from 'hono';
import { escapeXmlText } from '../../core/protocol/xml-escape.ts';
import { parsePhoneDateTime } from '../casexml/dates.ts';
import {
  type Ctx,
  dropConnection,
  type Env,
  guardPhoneRequest,
  type Hq,
  OPENROSA_RESPONSE_NS,
} from '../context.ts';
import { ignoreDemoSubmission, isDemoSubmission } from '../receiver/demo-mode.ts';
import { multipartBoundary, parseMultipart } from '../receiver/multipart.ts';
import type { ResponseNature, SubmissionAttachment } from '../receiver/submit.ts';
import { answerRegistration } from '../registration/route.ts';

/**
 * Attachment types HQ accepts (`hq:corehq/ex-submodules/couchforms/const.py`, `getters.py`):
 * a known extension or an image/audio/video/pdf/octet-stream content type.
 */
const ATTACHMENT_EXTENSIONS = new Set(
  'jpg jpeg png pdf 3ga mp3 wav amr qcp ogg 3gpp 3gp 3gp2 3g2 mp4 mpg4 mpeg4 m4v mpg mpeg'.split(' '),
);
function acceptedAttachment(name: string, type: string): boolean {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (ATTACHMENT_EXTENSIONS.has(ext)) return true;
  const t = type.split(';')[0]!.trim().toLowerCase();
  return /^(image|audio|video)\//.test(t) || t === 'application/octet-stream' || t === 'application/pdf';
}

/** The OpenRosa envelope; HQ serves it as Django's default text/html (submission.yaml). */
function openRosa(
  c: Ctx,
  status: number,
  nature: ResponseNature,
  message: string,
  formId: string | null,
): Response {
  const body = `<OpenRosaResponse xmlns="${OPENROSA_RESPONSE_NS}"><message nature="${nature}">${escapeXmlText(message)}</message></OpenRosaResponse>`;
  const headers: Record<string, string> = {
    'Content-Type': 'text/html; charset=utf-8',
    Location: new URL('/', c.req.url).toString(),
  };
  if (formId) headers['X-CommCareHQ-FormID'] = formId;
  return c.body(body, status as 201, headers);
}

interface ReadBody {
  xml: string;
  attachments: SubmissionAttachment[];
}

function concat(parts: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Reads at most `max` bytes of the body; undefined when it is longer (answered 413).
 * Under Node it reads the IncomingMessage itself: going through `c.req.raw.body` builds
 * a full Request and a web stream per submission. What it leaves unread when it stops
 * early is drained or dropped by @hono/node-server after the answer.
 */
async function readBounded(c: Ctx, max: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const incoming = c.env?.incoming;
  if (incoming && !incoming.readableEnded && !incoming.destroyed) {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      const done = () => {
        incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > max) {
          done();
          incoming.pause();
          resolve(undefined);
          return;
        }
        parts.push(chunk);
      };
      const onEnd = () => {
        done();
        resolve(concat(parts, size));
      };
      const onError = (e: Error) => {
        done();
        reject(e);
      };
      // A client that goes away mid-body: nothing to answer, but the handler must not hang.
      const onClose = () => onError(new Error('The connection closed before the body ended'));
      incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    });
  }
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  return concat(parts, size);
}

/** One multipart part as the checks below see it, from either parser. */
interface Part {
  name: string;
  /** undefined for a plain (non-file) field. */
  filename: string | undefined;
  type: string;
  size: number;
  bytes(): Promise<Uint8Array>;
}

/** The platform's multipart parser (undici), for bodies the lean parser leaves alone. */
async function platformParts(buf: Uint8Array<ArrayBuffer>, type: string): Promise<Part[] | undefined> {
  let form: FormData;
  try {
    form = await new Request('http://local/', {
      method: 'POST',
      body: buf,
      headers: { 'content-type': type },
    }).formData();
  } catch {
    return undefined;
  }
  const parts: Part[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      const data = new TextEncoder().encode(value);
      parts.push({ name, filename: undefined, type: '', size: data.byteLength, bytes: async () => data });
    } else
      parts.push({
        name,
        filename: value.name,
        type: value.type,
        size: value.size,
        bytes: async () => new Uint8Array(await value.arrayBuffer()),
      });
  }
  return parts;
}

const UTF8 = new TextDecoder();

/**
 * `get_instance_and_attachment` (hq:.../couchforms/getters.py): multipart with the XML in
 * `xml_submission_file` and files as attachments, or the raw XML as the whole body.
 */
async function readSubmission(hq: Hq, c: Ctx): Promise<ReadBody | Response> {
  const type = c.req.header('content-type') ?? '';
  const length = Number(c.req.header('content-length') ?? '0');
  // Whatever the headers say, no more than this is ever held in memory.
  const hardMax = hq.settings.maxXmlBytes + 10 * hq.settings.maxAttachmentBytes;
  if (length > hardMax) return c.text('Submission exceeds the size limit', 413);
  const multipart = type.toLowerCase().startsWith('multipart/form-data');
  const buf = await readBounded(c, multipart ? hardMax : hq.settings.maxXmlBytes);
  if (buf === undefined)
    return c.text(multipart ? 'Submission exceeds the size limit' : 'Form exceeds 10MB size limit', 413);
  if (!multipart) {
    if (buf.byteLength === 0) return c.text('Post may not have an empty body', 400);
    return { xml: UTF8.decode(buf), attachments: [] };
  }
  const boundary = multipartBoundary(type);
  const lean = boundary === undefined ? undefined : parseMultipart(buf, boundary);
  const parts: Part[] | undefined = lean
    ? lean.map((p) => ({
        name: p.name,
        filename: p.filename,
        type: p.type,
        size: p.data.byteLength,
        bytes: async () => p.data,
      }))
    : await platformParts(buf, type);
  if (!parts) return c.text('Could not read the multipart body', 400);
  let xmlPart: Part | undefined;
  const attachments: SubmissionAttachment[] = [];
  const files: Part[] = [];
  for (const part of parts) {
    if (part.filename === undefined)
      // Non-file fields in a multipart submission are refused (`MultimediaBug`).
      return c.text(`Received a submission with POST.keys() ${part.name}`, 400);
    if (part.name === 'xml_submission_file') {
      xmlPart = part;
      continue;
    }
    if (part.size > hq.settings.maxAttachmentBytes) return c.text('Attachment exceeds 15MB size limit', 413);
    files.push(part);
  }
  if (!xmlPart) return c.text('No XML file found in the submission (expected part xml_submission_file)', 400);
  if (xmlPart.size === 0) return c.text('Post may not have an empty body', 400);
  if (xmlPart.size > hq.settings.maxXmlBytes) return c.text('Form exceeds 10MB size limit', 413);
  if (xmlPart.filename && !xmlPart.filename.toLowerCase().endsWith('.xml'))
    return openRosa(
      c,
      422,
      'processing_failure',
      `XML part must be a .xml file, got ${xmlPart.filename}`,
      null,
    );
  for (const part of files) {
    if (!acceptedAttachment(part.filename || part.name, part.type))
      return openRosa(c, 422, 'processing_failure', `Unsupported attachment type: ${part.name}`, null);
    attachments.push({
      name: part.name,
      contentType: part.type || 'application/octet-stream',
      data: await part.bytes(),
    });
  }
  return { xml: UTF8.decode(await xmlPart.bytes()), attachments };
}

/**
 * `POST /a/<domain>/receiver/[<app_id>/]` and the `secure/` and `submission/` variants
 * (PROTOCOL.md 7): always authenticated (Basic or ApiKey), processed as HQ does.
 */
export function registerReceiver(app: Hono<Env>, hq: Hq): void {
  const handler = async (c: Ctx): Promise<Response> => {
    const domain = c.req.param('domain') ?? '';
    if (isDemoSubmission(c)) return ignoreDemoSubmission(hq, c);
    const gate = await guardPhoneRequest(hq, c, domain, 'submission');
    if (gate instanceof Response) return gate;
    const user = gate.user;
    // `X-Submit-Time` (a migration aid) replaces the receipt time; HQ parses it with
    // `string_to_utc_datetime` and a value it cannot parse fails the request.
    const submitTimeHeader = c.req.header('x-submit-time');
    const submitTime = submitTimeHeader ? parsePhoneDateTime(submitTimeHeader) : undefined;
    if (submitTime === null) return c.text(`Could not parse X-Submit-Time: ${submitTimeHeader}`, 500);
    const body = await readSubmission(hq, c);
    if (body instanceof Response) return body;
    if (gate.locked) {
      // HQ takes the form-id lock once it has read the instance, and answers a form it
      // cannot lock with 423 and `XFormLockError: <form id>` in plain text, unprocessed.
      const id = /<(?:\w+:)?instanceID>\s*([^<\s]*)\s*</.exec(body.xml)?.[1] ?? '';
      return c.text(`XFormLockError: ${id}`, 423);
    }
    const appId = c.req.param('appId') ?? '';
    const submit = () =>
      hq.processor.submit({
        domain,
        xml: body.xml,
        attachments: body.attachments,
        authUserId: user.id,
        openrosaVersion: c.req.header('x-openrosa-version') ?? c.req.query('openrosa_version'),
        lastSyncToken: c.req.header('x-commcarehq-lastsynctoken') || undefined,
        appId,
        buildId: appId,
        submitIp: c.env?.incoming?.socket?.remoteAddress ?? '',
        dateHeader: c.req.header('date'),
        submitTime,
      });
    const registered = answerRegistration(hq, c, domain, body.xml, submit);
    if (registered) return registered;
    const outcome = submit();
    hq.asyncRestores.invalidateUser(user.id);
    // The form is stored; the phone never hears about it and will resend it.
    if (gate.dropAfterStore) return dropConnection(c);
    return openRosa(c, outcome.status, outcome.nature, outcome.message, outcome.formId);
  };
  for (const base of ['receiver', 'receiver/secure', 'receiver/submission']) {
    app.post(`/a/:domain/${base}/`, handler);
    app.post(`/a/:domain/${base}`, handler);
  }
  app.post('/a/:domain/receiver/:appId/', handler);
  app.post('/a/:domain/receiver/secure/:appId/', handler);
  // `@require_POST`: other methods get 405.
  app.on(['GET', 'HEAD', 'PUT', 'DELETE'], ['/a/:domain/receiver/', '/a/:domain/receiver/*'], (c) =>
    c.text('Method not allowed', 405, { Allow: 'POST' }),
  );
}
