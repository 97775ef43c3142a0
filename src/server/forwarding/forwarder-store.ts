import { cached, type Db } from '../db/database.ts';
import { hexId, nowIso } from '../ids.ts';

/**
 * The forwarder types HQ's data-forwarding API accepts (the `doc_type` of a `Repeater`,
 * hq:corehq/motech/repeaters/models.py): forms as XML, cases as XML or JSON, a short JSON
 * note per form, and the id of each new application build.
 */
export const FORWARDER_TYPES = [
  'FormRepeater',
  'CaseRepeater',
  'ShortFormRepeater',
  'AppStructureRepeater',
] as const;
export type ForwarderType = (typeof FORWARDER_TYPES)[number];

/** Payload formats per type; the first is the default (HQ's `get_default_format`). */
export const FORWARDER_FORMATS: Record<ForwarderType, readonly string[]> = {
  FormRepeater: ['form_xml'],
  CaseRepeater: ['case_xml', 'case_json'],
  ShortFormRepeater: ['form_json'],
  AppStructureRepeater: ['app_structure_id'],
};

/** Outgoing auth the emulator can send (HQ's `ConnectionSettings.auth_type` subset). */
export const AUTH_TYPES = ['', 'basic', 'bearer'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export interface Forwarder {
  id: string;
  domain: string;
  type: ForwarderType;
  url: string;
  name: string;
  format: string;
  /** CaseXML version of CaseRepeater payloads (HQ's `version`, V2 = "2.0"). */
  version: string;
  authType: AuthType;
  username: string;
  password: string;
  whiteListedFormXmlns: string[];
  whiteListedCaseTypes: string[];
  blackListedUsers: string[];
  /** FormRepeater: `?app_id=<form's app id>` on the URL (HQ's `include_app_id_param`, default on). */
  includeAppIdParam: boolean;
  paused: boolean;
  createdAt: string;
  formCursor: number;
  appVersions: Record<string, number>;
  nextAttemptAt: number;
}

/** A bad forwarder definition (the API answers 400 with the message). */
export class ForwarderInputError extends Error {
  override readonly name = 'ForwarderInputError';
  readonly code = 'forwarder-invalid' as const;
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

interface ForwarderRow {
  id: string;
  domain: string;
  type: string;
  url: string;
  name: string;
  format: string;
  version: string;
  auth_type: string;
  username: string;
  password: string;
  white_listed_form_xmlns: string;
  white_listed_case_types: string;
  black_listed_users: string;
  include_app_id_param: number;
  paused: number;
  created_at: string;
  form_cursor: number;
  app_versions: string;
  next_attempt_at: number;
}

function fromRow(r: ForwarderRow): Forwarder {
  return {
    id: r.id,
    domain: r.domain,
    type: r.type as ForwarderType,
    url: r.url,
    name: r.name,
    format: r.format,
    version: r.version,
    authType: r.auth_type as AuthType,
    username: r.username,
    password: r.password,
    whiteListedFormXmlns: JSON.parse(r.white_listed_form_xmlns) as string[],
    whiteListedCaseTypes: JSON.parse(r.white_listed_case_types) as string[],
    blackListedUsers: JSON.parse(r.black_listed_users) as string[],
    includeAppIdParam: r.include_app_id_param === 1,
    paused: r.paused === 1,
    createdAt: r.created_at,
    formCursor: r.form_cursor,
    appVersions: JSON.parse(r.app_versions) as Record<string, number>,
    nextAttemptAt: r.next_attempt_at,
  };
}

/** The writable fields, as the API's JSON names them. */
export interface ForwarderInput {
  url?: unknown;
  type?: unknown;
  name?: unknown;
  format?: unknown;
  version?: unknown;
  auth_type?: unknown;
  username?: unknown;
  password?: unknown;
  white_listed_form_xmlns?: unknown;
  white_listed_case_types?: unknown;
  black_listed_users?: unknown;
  include_app_id_param?: unknown;
  paused?: unknown;
}

/** Only http(s) URLs with a host: anything else could never be delivered (issue 14: 400 on create). */
export function checkForwardUrl(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ForwarderInputError('url', 'url is required');
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    throw new ForwarderInputError('url', `url '${value}' is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ForwarderInputError(
      'url',
      `url '${value}' must use http or https, not ${u.protocol.replace(':', '')}`,
    );
  if (u.hostname === '') throw new ForwarderInputError('url', `url '${value}' has no host`);
  return u.toString();
}

function strList(field: string, v: unknown): string[] {
  // HQ's forms take a comma-separated string as well as a list.
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new ForwarderInputError(field, `${field} must be a list of strings`);
}

function str(field: string, v: unknown): string {
  if (typeof v !== 'string') throw new ForwarderInputError(field, `${field} must be a string`);
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ForwarderInputError(field, `${field} must be true or false`);
  return v;
}

/** Applies `input` over `base` (a new forwarder or the stored one), validating each field. */
export function applyForwarderInput(base: Forwarder, input: ForwarderInput): Forwarder {
  const f: Forwarder = { ...base };
  if (input.type !== undefined) {
    if (!(FORWARDER_TYPES as readonly unknown[]).includes(input.type))
      throw new ForwarderInputError('type', `type must be one of ${FORWARDER_TYPES.join(', ')}`);
    if (input.type !== base.type && input.format === undefined)
      f.format = FORWARDER_FORMATS[input.type as ForwarderType][0] ?? '';
    f.type = input.type as ForwarderType;
  }
  if (input.url !== undefined || f.url === '') f.url = checkForwardUrl(input.url);
  if (input.name !== undefined) f.name = str('name', input.name);
  if (input.format !== undefined) {
    const formats = FORWARDER_FORMATS[f.type];
    if (!formats.includes(String(input.format)))
      throw new ForwarderInputError('format', `format of a ${f.type} must be one of ${formats.join(', ')}`);
    f.format = String(input.format);
  }
  if (f.format === '' || !FORWARDER_FORMATS[f.type].includes(f.format))
    f.format = FORWARDER_FORMATS[f.type][0] ?? '';
  if (input.version !== undefined && input.version !== null) {
    const v = String(input.version);
    // CaseXML 1.0 is long gone from HQ's receiver too; only V2 payloads are written.
    if (v !== '2.0') throw new ForwarderInputError('version', 'version must be "2.0" (CaseXML 2.0)');
    f.version = v;
  }
  if (input.auth_type !== undefined && input.auth_type !== null) {
    if (!(AUTH_TYPES as readonly unknown[]).includes(input.auth_type))
      throw new ForwarderInputError('auth_type', 'auth_type must be "basic", "bearer" or ""');
    f.authType = input.auth_type as AuthType;
  }
  if (input.username !== undefined) f.username = str('username', input.username);
  if (input.password !== undefined) f.password = str('password', input.password);
  if (f.authType === 'basic' && f.username === '')
    throw new ForwarderInputError('username', 'auth_type "basic" needs a username');
  if (f.authType === 'bearer' && f.password === '')
    throw new ForwarderInputError('password', 'auth_type "bearer" needs the token as password');
  if (input.white_listed_form_xmlns !== undefined)
    f.whiteListedFormXmlns = strList('white_listed_form_xmlns', input.white_listed_form_xmlns);
  if (input.white_listed_case_types !== undefined)
    f.whiteListedCaseTypes = strList('white_listed_case_types', input.white_listed_case_types);
  if (input.black_listed_users !== undefined)
    f.blackListedUsers = strList('black_listed_users', input.black_listed_users);
  if (input.include_app_id_param !== undefined)
    f.includeAppIdParam = bool('include_app_id_param', input.include_app_id_param);
  if (input.paused !== undefined) f.paused = bool('paused', input.paused);
  return f;
}

export function newForwarder(domain: string): Forwarder {
  return {
    id: hexId(),
    domain,
    type: 'FormRepeater',
    url: '',
    name: '',
    format: '',
    version: '2.0',
    authType: '',
    username: '',
    password: '',
    whiteListedFormXmlns: [],
    whiteListedCaseTypes: [],
    blackListedUsers: [],
    includeAppIdParam: true,
    paused: false,
    createdAt: nowIso(),
    formCursor: 0,
    appVersions: {},
    nextAttemptAt: 0,
  };
}

/** Forwarders in SQLite; the engine and the API routes share it. */
export class ForwarderStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get db(): Db {
    return this.#db;
  }

  list(domain?: string): Forwarder[] {
    const rows = (
      domain === undefined
        ? cached(this.#db, 'SELECT * FROM forwarders ORDER BY created_at, id').all()
        : cached(this.#db, 'SELECT * FROM forwarders WHERE domain = ? ORDER BY created_at, id').all(domain)
    ) as ForwarderRow[];
    return rows.map(fromRow);
  }

  get(domain: string, id: string): Forwarder | undefined {
    const r = cached(this.#db, 'SELECT * FROM forwarders WHERE id = ? AND domain = ?').get(id, domain) as
      | ForwarderRow
      | undefined;
    return r ? fromRow(r) : undefined;
  }

  /**
   * Saves a new forwarder. It forwards what arrives from now on, as HQ's repeaters do
   * (existing data is only sent by a deliberate backfill): its cursors start at the
   * newest form and the current app versions.
   */
  create(f: Forwarder): Forwarder {
    const max = cached(this.#db, 'SELECT MAX(seq) AS s FROM forms WHERE domain = ?').get(f.domain) as {
      s: number | null;
    };
    const apps = cached(this.#db, 'SELECT id, version FROM applications WHERE domain = ?').all(f.domain) as {
      id: string;
      version: number;
    }[];
    const created: Forwarder = {
      ...f,
      formCursor: max.s ?? 0,
      appVersions: Object.fromEntries(apps.map((a) => [a.id, a.version])),
    };
    cached(
      this.#db,
      `INSERT INTO forwarders (id, domain, type, url, name, format, version, auth_type, username, password,
        white_listed_form_xmlns, white_listed_case_types, black_listed_users, include_app_id_param, paused,
        created_at, form_cursor, app_versions, next_attempt_at)
       VALUES (@id, @domain, @type, @url, @name, @format, @version, @auth_type, @username, @password,
        @wlx, @wlc, @blu, @include_app_id_param, @paused, @created_at, @form_cursor, @app_versions, 0)`,
    ).run({
      ...this.#params(created),
      created_at: created.createdAt,
      form_cursor: created.formCursor,
      app_versions: JSON.stringify(created.appVersions),
    });
    return created;
  }

  /** Saves the definition (not the cursors, which only the engine moves). */
  update(f: Forwarder): void {
    cached(
      this.#db,
      `UPDATE forwarders SET type = @type, url = @url, name = @name, format = @format, version = @version,
        auth_type = @auth_type, username = @username, password = @password, white_listed_form_xmlns = @wlx,
        white_listed_case_types = @wlc, black_listed_users = @blu, include_app_id_param = @include_app_id_param,
        paused = @paused, next_attempt_at = 0 WHERE id = @id AND domain = @domain`,
    ).run(this.#params(f));
  }

  /** Deletes the forwarder; its unsent records are cancelled, the log is kept. */
  delete(domain: string, id: string): boolean {
    return this.#db
      .transaction(() => {
        const r = cached(this.#db, 'DELETE FROM forwarders WHERE id = ? AND domain = ?').run(id, domain);
        if (r.changes === 0) return false;
        cached(
          this.#db,
          `UPDATE repeat_records SET state = 'cancelled', failure_reason = 'forwarder deleted'
         WHERE forwarder_id = ? AND state IN ('pending', 'failed')`,
        ).run(id);
        return true;
      })
      .immediate();
  }

  #params(f: Forwarder) {
    return {
      id: f.id,
      domain: f.domain,
      type: f.type,
      url: f.url,
      name: f.name,
      format: f.format,
      version: f.version,
      auth_type: f.authType,
      username: f.username,
      password: f.password,
      wlx: JSON.stringify(f.whiteListedFormXmlns),
      wlc: JSON.stringify(f.whiteListedCaseTypes),
      blu: JSON.stringify(f.blackListedUsers),
      include_app_id_param: f.includeAppIdParam ? 1 : 0,
      paused: f.paused ? 1 : 0,
    };
  }
}
