import type { Hono } from 'hono';
import { escapeXmlText } from '../../core/protocol/xml-escape.ts';
import { parsePhoneDateTime } from '../casexml/dates.ts';
import { XmlLimitError } from '../casexml/xml-tree.ts';
import {
  type Ctx,
  dropConnection,
  type Env,
  guardPhoneRequest,
  type Hq,
  OPENROSA_RESPONSE_NS,
} from '../context.ts';
import { decodeSubmissionXml, InvalidSubmissionEncoding } from '../receiver/decode-xml.ts';
import { groupCommitOf } from '../receiver/group-commit.ts';
import { multipartBoundary } from '../receiver/multipart.ts';
import {
  MultipartError,
  MultipartStream,
  PartRefusedError,
  PartTooLargeError,
  type StreamedPart,
} from '../receiver/multipart-stream.ts';
import { BodyTooLargeError, pumpBody } from '../receiver/read-body.ts';
import type { ResponseNature, SubmissionAttachment, SubmissionOutcome } from '../receiver/submit.ts';
import { UploadBudgetError, type UploadLease, uploadBudgetOf } from '../receiver/upload-budget.ts';
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

/** An answer given before the whole body was read: the client may stop sending. */
function refuse(
  c: Ctx,
  status: 400 | 413 | 503,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return c.text(text, status, { Connection: 'close', ...headers });
}

/**
 * `get_instance_and_attachment` (hq:.../couchforms/getters.py): multipart with the XML in
 * `xml_submission_file` and files as attachments, or the raw XML as the whole body.
 * The body is read as it arrives: multipart parts are checked against their limits while
 * they stream in (the first part over its limit ends the read with 413), and every byte
 * held counts against the shared upload budget (`lease`; spent: 503 with Retry-After).
 */
async function readSubmission(hq: Hq, c: Ctx, lease: UploadLease): Promise<ReadBody | Response> {
  const type = c.req.header('content-type') ?? '';
  const length = Number(c.req.header('content-length') ?? '0');
  // Whatever the headers say, no more than this is ever read.
  const hardMax = hq.settings.maxXmlBytes + 10 * hq.settings.maxAttachmentBytes;
  if (length > hardMax) return refuse(c, 413, 'Submission exceeds the size limit');
  const multipart = type.toLowerCase().startsWith('multipart/form-data');
  const max = multipart ? hardMax : hq.settings.maxXmlBytes;
  const boundary = multipart ? multipartBoundary(type) : undefined;
  if (multipart && boundary === undefined) return refuse(c, 400, 'Could not read the multipart body');
  const stream =
    boundary === undefined
      ? undefined
      : new MultipartStream(boundary, (part) => {
          // Non-file fields in a multipart submission are refused (`MultimediaBug`).
          if (part.filename === undefined)
            throw new PartRefusedError(`Received a submission with POST.keys() ${part.name}`);
          return part.name === 'xml_submission_file'
            ? hq.settings.maxXmlBytes
            : hq.settings.maxAttachmentBytes;
        });
  const raw: Buffer[] = [];
  let size = 0;
  try {
    await pumpBody(c, (chunk) => {
      size += chunk.byteLength;
      if (size > max) throw new BodyTooLargeError();
      lease.take(chunk.byteLength);
      if (stream) stream.push(chunk);
      else raw.push(chunk);
    });
  } catch (e) {
    if (e instanceof UploadBudgetError)
      return refuse(c, 503, e.message, { 'Retry-After': String(e.retryAfterSeconds) });
    if (e instanceof BodyTooLargeError)
      return refuse(c, 413, multipart ? 'Submission exceeds the size limit' : 'Form exceeds 10MB size limit');
    if (e instanceof PartTooLargeError)
      return refuse(
        c,
        413,
        e.part === 'xml_submission_file'
          ? 'Form exceeds 10MB size limit'
          : 'Attachment exceeds 15MB size limit',
      );
    if (e instanceof PartRefusedError) return refuse(c, 400, e.message);
    if (e instanceof MultipartError) return refuse(c, 400, 'Could not read the multipart body');
    throw e;
  }
  if (!stream) {
    if (size === 0) return c.text('Post may not have an empty body', 400);
    return {
      xml: decodeSubmissionXml(raw.length === 1 ? raw[0]! : Buffer.concat(raw, size)),
      attachments: [],
    };
  }
  let parts: StreamedPart[];
  try {
    parts = stream.end();
  } catch {
    return c.text('Could not read the multipart body', 400);
  }
  let xmlPart: StreamedPart | undefined;
  const files: StreamedPart[] = [];
  for (const part of parts) {
    if (part.name === 'xml_submission_file') xmlPart = part;
    else files.push(part);
  }
  if (!xmlPart) return c.text('No XML file found in the submission (expected part xml_submission_file)', 400);
  if (xmlPart.data.byteLength === 0) return c.text('Post may not have an empty body', 400);
  if (xmlPart.filename && !xmlPart.filename.toLowerCase().endsWith('.xml'))
    return openRosa(
      c,
      422,
      'processing_failure',
      `XML part must be a .xml file, got ${xmlPart.filename}`,
      null,
    );
  const attachments: SubmissionAttachment[] = [];
  for (const part of files) {
    if (!acceptedAttachment(part.filename || part.name, part.type))
      return openRosa(c, 422, 'processing_failure', `Unsupported attachment type: ${part.name}`, null);
    attachments.push({
      name: part.name,
      contentType: part.type || 'application/octet-stream',
      data: part.data,
    });
  }
  return { xml: decodeSubmissionXml(xmlPart.data), attachments };
}

/**
 * `POST /a/<domain>/receiver/[<app_id>/]` and the `secure/` and `submission/` variants
 * (PROTOCOL.md 7): always authenticated (Basic or ApiKey), processed as HQ does.
 */
export function registerReceiver(app: Hono<Env>, hq: Hq): void {
  const handler = async (c: Ctx): Promise<Response> => {
    const domain = c.req.param('domain') ?? '';
    const gate = await guardPhoneRequest(hq, c, domain, 'submission');
    if (gate instanceof Response) return gate;
    // `X-Submit-Time` (a migration aid) replaces the receipt time; HQ parses it with
    // `string_to_utc_datetime` and a value it cannot parse fails the request.
    const submitTimeHeader = c.req.header('x-submit-time');
    const submitTime = submitTimeHeader ? parsePhoneDateTime(submitTimeHeader) : undefined;
    if (submitTime === null) return c.text(`Could not parse X-Submit-Time: ${submitTimeHeader}`, 500);
    const lease = uploadBudgetOf(hq, hq.settings.uploadBudgetBytes).lease();
    try {
      return await receive(c, gate, lease, submitTime);
    } finally {
      // Held until the form is stored: its attachments live in memory until then.
      lease.release();
    }
  };
  const receive = async (
    c: Ctx,
    gate: { user: { id: string }; dropAfterStore: boolean; locked: boolean },
    lease: UploadLease,
    submitTime: string | undefined,
  ): Promise<Response> => {
    const user = gate.user;
    const domain = c.req.param('domain') ?? '';
    let body: ReadBody | Response;
    try {
      body = await readSubmission(hq, c, lease);
    } catch (e) {
      if (e instanceof InvalidSubmissionEncoding)
        return openRosa(c, 422, 'processing_failure', e.message, null);
      throw e;
    }
    if (body instanceof Response) return body;
    if (gate.locked) {
      // HQ takes the form-id lock once it has read the instance, and answers a form it
      // cannot lock with 423 and `XFormLockError: <form id>` in plain text, unprocessed.
      const id = /<(?:\w+:)?instanceID>\s*([^<\s]*)\s*</.exec(body.xml)?.[1] ?? '';
      return c.text(`XFormLockError: ${id}`, 423);
    }
    const appId = c.req.param('appId') ?? '';
    const request = {
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
    };
    let outcome: SubmissionOutcome;
    try {
      // A JavaRosa user registration creates the worker in the same transaction as the form
      // (rare: stored on its own, outside the group commit).
      const registered = answerRegistration(hq, c, domain, body.xml, () => hq.processor.submit(request));
      if (registered) return registered;
      outcome = await groupCommitOf(hq.db, hq.processor).submit(request);
    } catch (e) {
      // Over the XML parser's limits: refused quickly, nothing stored.
      if (e instanceof XmlLimitError) return c.text(`${e.code}: ${e.message}`, 413);
      throw e;
    }
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
