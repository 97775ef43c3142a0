import { XmlError } from '../errors/xml-error.ts';
import { stringXmlParser } from './string-xml-parser.ts';

/**
 * HQ's mobile key records (`GET /a/<domain>/phone/keys/`, the app profile's `key_server`):
 * the CentralAuthAPI payload of hq:corehq/apps/mobile_auth/xml.py,
 *
 *   <OpenRosaResponse xmlns="http://openrosa.org/http/response">
 *     <message nature="submit_success">Here are your keys!</message>
 *     <auth_keys domain="demo" issued="2026-12-03T10:00:00Z">
 *       <key_record valid="..." expires="...">
 *         <uuid>hex</uuid><key type="AES256">base64 of 32 bytes</key>
 *       </key_record>
 *     </auth_keys>
 *   </OpenRosaResponse>
 *
 * A record belongs to the user, not to the password: HQ keeps one per user and only
 * moves its expiry on (`bump_expiry`), so it survives a password change. That is what
 * lets it hold an escrow of the device's data key (docs/core.md, "Key escrow").
 */
export interface KeyRecord {
  uuid: string;
  /** The 32 key bytes, base64 (kept only as long as one unlock uses them). */
  key: string;
  /** ISO date from which the key is trusted. */
  valid: string;
  /** ISO date on which it was supplanted; absent = currently valid. */
  expires?: string;
}

export interface KeyRecordSet {
  domain: string;
  /** The server's time of the answer: the next request's `last_issued`. */
  issued: string;
  records: KeyRecord[];
}

type Node = Record<string, unknown>;

const parser = stringXmlParser({
  trimValues: true,
  isArray: (name) => name === 'key_record',
});

function bad(why: string): XmlError {
  return new XmlError('xml-invalid', `The key records answer is not usable: ${why}`);
}

function text(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  if (v !== null && typeof v === 'object') {
    const t = (v as Node)['#text'];
    if (typeof t === 'string') return t.trim();
  }
  return '';
}

function attr(v: unknown, name: string): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const a = (v as Node)[`@${name}`];
  return typeof a === 'string' && a !== '' ? a : undefined;
}

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The records of one answer; `domain` must match the request's ("the client should only
 * accept keys from domains that match the request", xml.py). Only AES256/AES keys of 32
 * bytes are kept; anything else is refused with a typed `xml-invalid`.
 */
export function parseKeyRecords(xml: string, domain: string): KeyRecordSet {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (e) {
    throw new XmlError('xml-malformed', `The key records answer is not XML: ${(e as Error).message}`);
  }
  const root = doc.OpenRosaResponse as Node | undefined;
  const keys = (root?.auth_keys ?? doc.auth_keys) as Node | undefined;
  if (keys === undefined || typeof keys !== 'object') throw bad('no <auth_keys> element');
  const from = attr(keys, 'domain');
  if (from !== domain) throw bad(`keys for domain "${from ?? ''}", asked for "${domain}"`);
  const issued = attr(keys, 'issued');
  if (issued === undefined || Number.isNaN(Date.parse(issued))) throw bad('no valid issued date');
  const records: KeyRecord[] = [];
  for (const r of (keys.key_record as Node[] | undefined) ?? []) {
    const uuid = text(r.uuid);
    const key = text(r.key);
    const type = attr(r.key, 'type');
    const valid = attr(r, 'valid');
    const expires = attr(r, 'expires');
    if (uuid === '') throw bad('a key record has no uuid');
    if (type !== 'AES256' && type !== 'AES') throw bad(`key ${uuid} is of type ${type ?? '(none)'}`);
    if (!BASE64_32.test(key)) throw bad(`key ${uuid} is not 32 bytes of base64`);
    if (valid === undefined || Number.isNaN(Date.parse(valid))) throw bad(`key ${uuid} has no valid date`);
    if (expires !== undefined && Number.isNaN(Date.parse(expires)))
      throw bad(`key ${uuid} has a bad expires date`);
    records.push({ uuid, key, valid, ...(expires === undefined ? {} : { expires }) });
  }
  return { domain: from, issued, records };
}

/**
 * The record in force at the answer's `issued` time (the server's clock, not the
 * device's): the latest `valid` not after it and not expired, as HQ's `key_for_time`
 * picks the newest record valid at a time. Undefined when none is.
 */
export function currentKeyRecord(set: KeyRecordSet): KeyRecord | undefined {
  const at = Date.parse(set.issued);
  let best: KeyRecord | undefined;
  for (const r of set.records) {
    if (Date.parse(r.valid) > at) continue;
    if (r.expires !== undefined && Date.parse(r.expires) <= at) continue;
    if (best === undefined || Date.parse(r.valid) > Date.parse(best.valid)) best = r;
  }
  return best;
}
