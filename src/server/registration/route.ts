import { escapeXmlText } from '../../core/protocol/xml-escape.ts';
import type { Ctx, Hq } from '../context.ts';
import type { SubmissionOutcome } from '../receiver/submit.ts';
import { registrationXml } from '../restore/generate.ts';
import {
  applyRegistration,
  mayBeRegistration,
  RegistrationError,
  readRegistration,
  registrationResponse,
} from './register.ts';

/**
 * The receiver's registration branch: undefined for ordinary forms (processed as usual);
 * for a registration, 201 with the registered user, or 422 with the reason and nothing
 * stored or created (a malformed registration, a username taken, an id of another user).
 */
export function answerRegistration(
  hq: Hq,
  c: Ctx,
  domain: string,
  xml: string,
  store: () => SubmissionOutcome,
): Response | undefined {
  if (!mayBeRegistration(xml)) return undefined;
  const html = { 'Content-Type': 'text/html; charset=utf-8' };
  try {
    const reg = readRegistration(xml, domain);
    if (!reg) return undefined;
    const result = applyRegistration(hq.db, domain, reg, () => {
      const outcome = store();
      if (outcome.status !== 201 || !outcome.formId)
        throw new RegistrationError('registration-invalid', outcome.message);
      return outcome.formId;
    });
    return c.body(registrationResponse(result.user, result.created, registrationXml(result.user)), 201, {
      ...html,
      'X-CommCareHQ-FormID': result.formId,
    });
  } catch (e) {
    if (!(e instanceof RegistrationError)) throw e;
    const body = `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="processing_failure">${escapeXmlText(e.message)}</message></OpenRosaResponse>`;
    return c.body(body, 422, { ...html, 'X-Fieldsim-Error': e.code });
  }
}
