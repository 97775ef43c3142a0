import { NS } from '../../core/protocol/namespaces.ts';
import { escapeXmlText } from '../../core/protocol/xml-escape.ts';
import { clearDigests, storeDigests } from '../auth/digest-store.ts';
import { hashPassword, isPasswordHash } from '../auth/passwords.ts';
import { parseXmlTree, XmlParseError, type XNode } from '../casexml/xml-tree.ts';
import type { Db } from '../db/database.ts';
import {
  formatUsername,
  getUserById,
  getUserByUsername,
  HQ_ACCOUNT_ROOT,
  type UserRow,
} from '../db/users.ts';
import { nowIso } from '../ids.ts';
import { saveRegistration } from './registrations.ts';

/**
 * JavaRosa's User Registration API: a form whose root is
 * `<registration xmlns="http://openrosa.org/user/registration">` (or the older
 * `http://openrosa.org/user-registration`) creates or updates a mobile worker
 * (`create_user_from_commcare_registration` / `CommCareUser.create_or_update_from_xform`,
 * hq:corehq/apps/users/signals.py and models.py): `uuid` becomes the user id, `username`
 * is formatted with the domain, `password` is a Django hash kept as is or a clear
 * password, `date` the join date, `registering_phone_id` the device, `user_data` the
 * custom data (`<data key="k">v</data>`).
 */

export type RegistrationErrorCode = 'registration-invalid' | 'username-taken' | 'uuid-conflict';

export class RegistrationError extends Error {
  readonly code: RegistrationErrorCode;
  constructor(code: RegistrationErrorCode, message: string) {
    super(message);
    this.name = 'RegistrationError';
    this.code = code;
  }
}

export interface Registration {
  /** Full username, `<name>@<domain>.commcarehq.org`. */
  username: string;
  password: string;
  uuid: string;
  /** `YYYY-MM-DD`, or undefined (today). */
  date: string | undefined;
  registeringPhoneId: string;
  userData: Record<string, string>;
}

const REGISTRATION_NAMESPACES = new Set<string>([NS.registration, NS.registrationOld]);
const SHORT_NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;
const UUID_RE = /^[A-Za-z0-9_.-]{1,100}$/;

/** Cheap pre-check on the raw XML, so ordinary forms never pay for a second parse. */
export function mayBeRegistration(xml: string): boolean {
  return xml.includes('openrosa.org/user/registration') || xml.includes('openrosa.org/user-registration');
}

/** The registration at the root of `xml`, undefined for any other form. */
export function readRegistration(xml: string, domain: string): Registration | undefined {
  let root: XNode;
  try {
    root = parseXmlTree(xml);
  } catch (e) {
    if (e instanceof XmlParseError) return undefined; // The receiver reports bad XML itself.
    throw e;
  }
  if (root.local !== 'registration' || !REGISTRATION_NAMESPACES.has(root.ns)) return undefined;
  const field = (name: string): string => root.children.find((c) => c.local === name)?.text.trim() ?? '';
  const missing = ['username', 'password', 'uuid'].filter((f) => field(f) === '');
  if (missing.length > 0)
    throw new RegistrationError('registration-invalid', `Registration is missing ${missing.join(', ')}`);

  const rawName = field('username').toLowerCase();
  const suffix = `@${domain.toLowerCase()}.${HQ_ACCOUNT_ROOT}`;
  if (rawName.includes('@') && !rawName.endsWith(suffix))
    throw new RegistrationError(
      'registration-invalid',
      `Username '${rawName}' is not a mobile worker of project '${domain}'`,
    );
  const username = rawName.includes('@') ? rawName : formatUsername(rawName, domain);
  const short = username.slice(0, username.indexOf('@'));
  if (!SHORT_NAME_RE.test(short))
    throw new RegistrationError(
      'registration-invalid',
      `Username '${short}' may use only a-z, 0-9, ".", "_" and "-" and must start with a letter or digit`,
    );
  const uuid = field('uuid');
  if (!UUID_RE.test(uuid))
    throw new RegistrationError('registration-invalid', `Registration uuid '${uuid}' is not a valid id`);
  const dateText = field('date');
  let date: string | undefined;
  if (dateText !== '') {
    const m = /^(\d{4}-\d{2}-\d{2})(?:$|[T ])/.exec(dateText);
    if (!m || Number.isNaN(Date.parse(m[1]!)))
      throw new RegistrationError('registration-invalid', `Registration date '${dateText}' is not a date`);
    date = m[1];
  }
  const userData: Record<string, string> = {};
  const dataNode = root.children.find((c) => c.local === 'user_data');
  for (const d of dataNode?.children ?? []) {
    if (d.local !== 'data') continue;
    const key = d.attrs.key ?? '';
    if (key === '') throw new RegistrationError('registration-invalid', 'user_data <data> without a key');
    userData[key] = d.text;
  }
  return {
    username,
    password: field('password'),
    uuid,
    date,
    registeringPhoneId: field('registering_phone_id'),
    userData,
  };
}

/**
 * Creates the mobile worker, or updates the one whose id is `uuid` (HQ's
 * create-or-update). A username held by another user is refused, not renamed: HQ would
 * append a number, which a phone that registered "ana" would never learn.
 */
export function applyRegistration(
  db: Db,
  domain: string,
  reg: Registration,
  storeForm: () => string,
): { user: UserRow; created: boolean; formId: string } {
  return db.transaction(() => {
    const existing = getUserById(db, reg.uuid);
    if (existing && (existing.domain !== domain || existing.kind !== 'mobile'))
      throw new RegistrationError('uuid-conflict', `The id ${reg.uuid} belongs to another user`);
    const holder = getUserByUsername(db, reg.username);
    if (holder && holder.id !== reg.uuid)
      throw new RegistrationError('username-taken', `Username '${reg.username}' is already taken`);
    // The form is kept like any other (HQ creates the user from the saved form); in the
    // same transaction, so a refused registration stores nothing.
    const formId = storeForm();
    const hash = isPasswordHash(reg.password) ? reg.password : hashPassword(reg.password);
    const date = reg.date ?? nowIso().slice(0, 10);
    if (existing) {
      const data = { ...(JSON.parse(existing.user_data) as Record<string, string>), ...reg.userData };
      db.prepare('UPDATE users SET username = ?, password_hash = ?, user_data = ? WHERE id = ?').run(
        reg.username,
        hash,
        JSON.stringify(data),
        reg.uuid,
      );
    } else {
      db.prepare(
        `INSERT INTO users (id, domain, username, kind, password_hash, user_data, date_joined)
         VALUES (?, ?, ?, 'mobile', ?, ?, ?)`,
      ).run(reg.uuid, domain, reg.username, hash, JSON.stringify(reg.userData), date);
    }
    // A hash from the phone leaves no clear password to derive Digest HA1s from.
    if (hash === reg.password) clearDigests(db, reg.uuid);
    else storeDigests(db, { id: reg.uuid, domain, username: reg.username, kind: 'mobile' }, reg.password);
    saveRegistration(db, {
      user_id: reg.uuid,
      registering_phone_id: reg.registeringPhoneId,
      form_id: formId,
      registered_on: nowIso(),
    });
    const user = getUserById(db, reg.uuid);
    if (!user) throw new Error(`registered user ${reg.uuid} not found after insert`);
    return { user, created: !existing, formId };
  })();
}

/**
 * `get_response` (hq:corehq/apps/users/xml.py): the thank-you message with nature
 * `submit_user_registered` or `submit_user_updated`, then the user's `<Registration>`
 * block as the restore carries it.
 */
export function registrationResponse(user: UserRow, created: boolean, registrationXml: string): string {
  const text = created
    ? `Thanks for registering! Your username is ${user.username}`
    : `Thanks for updating your information, ${user.username}.`;
  const nature = created ? 'submit_user_registered' : 'submit_user_updated';
  return `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="${nature}">${escapeXmlText(text)}</message>${registrationXml}</OpenRosaResponse>`;
}
