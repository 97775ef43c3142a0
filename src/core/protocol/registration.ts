import { NS } from './namespaces.ts';
import { stringXmlParser } from './string-xml-parser.ts';
import { escapeXmlAttr, escapeXmlText } from './xml-escape.ts';

/**
 * JavaRosa's User Registration API on the wire: the form a phone posts to the receiver,
 * `<registration xmlns="http://openrosa.org/user/registration">` with username, password
 * (a Django-style hash), uuid, date, registering_phone_id and user_data, and HQ's answer
 * (hq:corehq/apps/users/xml.py `get_response`): a `<message>` and the `<Registration>`
 * block of the registered user.
 */
export interface RegistrationForm {
  username: string;
  /** Django password hash (`pbkdf2_sha256$...`), or a clear password if the caller insists. */
  password: string;
  uuid: string;
  /** `YYYY-MM-DD`. */
  date: string;
  registeringPhoneId: string;
  userData: Record<string, string>;
}

export function registrationXml(r: RegistrationForm): string {
  let s = `<?xml version="1.0" encoding="UTF-8"?><registration xmlns="${NS.registration}">`;
  s += `<username>${escapeXmlText(r.username)}</username>`;
  s += `<password>${escapeXmlText(r.password)}</password>`;
  s += `<uuid>${escapeXmlText(r.uuid)}</uuid>`;
  s += `<date>${escapeXmlText(r.date)}</date>`;
  s += `<registering_phone_id>${escapeXmlText(r.registeringPhoneId)}</registering_phone_id>`;
  s += '<user_data>';
  for (const [k, v] of Object.entries(r.userData))
    s += `<data key="${escapeXmlAttr(k)}">${escapeXmlText(v)}</data>`;
  return `${s}</user_data></registration>`;
}

export interface RegistrationAnswer {
  nature: string | undefined;
  message: string | undefined;
  /** From the `<Registration>` block, when the server sent one. */
  username: string | undefined;
  uuid: string | undefined;
  date: string | undefined;
}

const parser = stringXmlParser({
  htmlEntities: false,
});

type Node = Record<string, unknown>;

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (v !== null && typeof v === 'object') {
    const t = (v as Node)['#text'];
    if (typeof t === 'string') return t.trim();
  }
  return undefined;
}

/** Reads HQ's answer to a registration; undefined when it is not an OpenRosaResponse. */
export function parseRegistrationAnswer(xml: string): RegistrationAnswer | undefined {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch {
    return undefined;
  }
  const root = doc.OpenRosaResponse;
  if (root === null || typeof root !== 'object') return undefined;
  const r = root as Node;
  const msg = Array.isArray(r.message) ? (r.message[0] as unknown) : r.message;
  const nature = msg !== null && typeof msg === 'object' ? (msg as Node)['@nature'] : undefined;
  const reg = (r.Registration ?? {}) as Node;
  return {
    nature: typeof nature === 'string' ? nature : undefined,
    message: textOf(msg),
    username: textOf(reg.username),
    uuid: textOf(reg.uuid),
    date: textOf(reg.date),
  };
}
