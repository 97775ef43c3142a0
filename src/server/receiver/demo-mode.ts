import { type Ctx, type Hq, OPENROSA_RESPONSE_NS } from '../context.ts';

/**
 * `?submit_mode=demo` (`DEMO_SUBMIT_MODE`, hq:corehq/apps/receiverwrapper/util.py): forms
 * filled in CommCare's practice mode. HQ authenticates them with NOAUTH
 * (`determine_authtype_from_request`), reads them and answers HQ's
 * `SUBMISSION_IGNORED_RESPONSE` without storing or processing anything.
 */
export function isDemoSubmission(c: Ctx): boolean {
  return c.req.query('submit_mode') === 'demo';
}

export const SUBMISSION_IGNORED_TEXT = '√ (this submission was ignored)';

export async function ignoreDemoSubmission(hq: Hq, c: Ctx): Promise<Response> {
  const max = hq.settings.maxXmlBytes + 10 * hq.settings.maxAttachmentBytes;
  if (Number(c.req.header('content-length') ?? '0') > max)
    return c.text('Submission exceeds the size limit', 413);
  // Read to the end so the client sees its upload complete; the bytes are dropped.
  const body = await c.req.arrayBuffer();
  if (body.byteLength === 0) return c.text('Post may not have an empty body', 400);
  return c.body(
    `<OpenRosaResponse xmlns="${OPENROSA_RESPONSE_NS}"><message nature="submit_success">${SUBMISSION_IGNORED_TEXT}</message></OpenRosaResponse>`,
    201,
    { 'Content-Type': 'text/html; charset=utf-8' },
  );
}
