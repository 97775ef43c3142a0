import type { Hono } from 'hono';
import { escapeXmlAttr, escapeXmlText } from '../../core/protocol/xml-escape.ts';
import { type Ctx, type Env, type Hq, OPENROSA_RESPONSE_NS, requireUser } from '../context.ts';
import { getUserByUsername, normalizeLogin } from '../db/users.ts';
import { fetchKeyRecords, type KeyRecordRow, keyDate } from './key-records.ts';

/**
 * `GET /a/<domain>/phone/keys/` (`fetch_key_records`) and `GET .../phone/admin_keys/?as=`
 * (`admin_fetch_key_records`), hq:corehq/apps/mobile_auth/{urls,views}.py. Both take the
 * phone authentications (`login_or_digest_or_basic_or_apikey`: Basic, Digest, API key) and
 * GET only (`require_GET`: 405). `admin_keys` is for domain admins (403 otherwise) and
 * answers 404 for an unknown `as` user. An optional ISO `last_issued` also returns the
 * record valid at that time. Answers carry `Cache-Control: no-store` (they are keys).
 *
 * Turned off per emulator (`keyRecords: false`, `FIELDSIM_KEY_RECORDS=off`, or
 * `setKeyRecords(hq, false)` at run time): both URLs then answer 404 like a server
 * without the view (a generic OpenRosa server), the case a client must survive.
 */

const disabled = new WeakSet<Hq>();

/** Turns the key record endpoints on or off for this emulator (tests, docs/emulator.md). */
export function setKeyRecords(hq: Hq, enabled: boolean): void {
  if (enabled) disabled.delete(hq);
  else disabled.add(hq);
}

const XML = 'text/xml; charset=utf-8';

/** `get_mobile_auth_payload` (utils.py) in the CentralAuthAPI layout (xml.py). */
export function keyRecordsXml(domain: string, records: KeyRecordRow[], issuedMs: number): string {
  const recs = records
    .map(
      (r) =>
        `<key_record valid="${keyDate(r.valid)}" expires="${keyDate(r.expires)}">` +
        `<uuid>${escapeXmlText(r.id)}</uuid><key type="${escapeXmlAttr(r.type)}">${escapeXmlText(r.key)}</key>` +
        '</key_record>',
    )
    .join('');
  return (
    `<OpenRosaResponse xmlns="${OPENROSA_RESPONSE_NS}">` +
    '<message nature="submit_success">Here are your keys!</message>' +
    `<auth_keys domain="${escapeXmlAttr(domain)}" issued="${keyDate(issuedMs)}">${recs}</auth_keys>` +
    '</OpenRosaResponse>'
  );
}

/** `last_issued` as epoch ms; undefined when absent; a Response for an unreadable date. */
function lastIssued(c: Ctx): number | undefined | Response {
  const raw = c.req.query('last_issued');
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) return c.text(`Invalid last_issued: ${raw}`, 400);
  return ms;
}

function answer(c: Ctx, hq: Hq, domain: string, userId: string): Response {
  const since = lastIssued(c);
  if (since instanceof Response) return since;
  const now = Date.now();
  const records = fetchKeyRecords(hq.db, domain, userId, now, since);
  return c.body(keyRecordsXml(domain, records, now), 200, {
    'Content-Type': XML,
    'Cache-Control': 'no-store',
  });
}

export function registerKeys(app: Hono<Env>, hq: Hq, enabled = true): void {
  setKeyRecords(hq, enabled);
  app.all('/a/:domain/phone/keys/', (c) => {
    if (disabled.has(hq)) return c.text('Not found', 404);
    const domain = c.req.param('domain');
    const user = requireUser(hq, c, domain);
    if (user instanceof Response) return user;
    if (c.req.method !== 'GET') return c.body(null, 405, { Allow: 'GET' });
    return answer(c, hq, domain, user.id);
  });
  app.all('/a/:domain/phone/admin_keys/', (c) => {
    if (disabled.has(hq)) return c.text('Not found', 404);
    const domain = c.req.param('domain');
    const user = requireUser(hq, c, domain);
    if (user instanceof Response) return user;
    // `domain_admin_required`: mobile workers are never domain admins.
    if (user.kind !== 'web' || user.is_admin !== 1) return c.body(null, 403);
    if (c.req.method !== 'GET') return c.body(null, 405, { Allow: 'GET' });
    const as = c.req.query('as') ?? '';
    const target = as === '' ? undefined : getUserByUsername(hq.db, normalizeLogin(as, domain));
    // HQ looks up a CommCareUser by username; here it must also be this domain's.
    if (target?.kind !== 'mobile' || target.domain !== domain || target.deleted === 1)
      return c.text(`User ${as} not found.`, 404);
    return answer(c, hq, domain, target.id);
  });
}
