/**
 * HQ's v0.5 JSON API objects as they come over the wire: snake_case names, dates as the
 * strings HQ sends. Sources: PROTOCOL.md 9 and HQ's OpenAPI description
 * (hq:docs/api/openapi/components/schemas/{pagination,user,case,form,application}.yaml).
 * Every object keeps fields this file does not name through its index signature, so a
 * newer HQ (or `?extras=true`) loses nothing.
 *
 * Dates: case dates are naive ISO-8601 (`2012-04-05T23:56:41` or with `.ffffff`, no `Z`);
 * `indexed_on`, `received_on` and `server_modified_on` are usually `...Z` strings on HQ.
 * They are left as strings: parse them with `parseHqDate` when needed.
 */

/** Naive or `Z`-suffixed ISO-8601 date-time string, exactly as HQ sent it. */
export type HqDateTime = string;

/** tastypie's offset pagination block (`PaginationMeta`, pagination.yaml). */
export interface ApiMeta {
  /** The page size the server applied (capped at its maximum); `null` on the application list. */
  limit: number | null;
  offset: number;
  /** Relative URL of the next page (`/a/demo/api/v0.5/case/?limit=20&offset=20`), or null. */
  next: string | null;
  previous: string | null;
  total_count: number;
}

/** The list envelope (`PaginatedResponse`). */
export interface ApiPage<T> {
  meta: ApiMeta;
  objects: T[];
}

// ---------------------------------------------------------------- users

/** A mobile worker (`MobileWorker`, user.yaml; `v0_5.CommCareUserResource`). */
export interface MobileWorker {
  id: string;
  /** Full username: `jdoe@demo.commcarehq.org`. */
  username: string;
  first_name: string | null;
  last_name: string | null;
  /** The first of `phone_numbers`. */
  default_phone_number: string | null;
  email: string;
  phone_numbers: string[];
  /** Group ids. */
  groups: string[];
  primary_location: string | null;
  locations: string[];
  /** Custom data plus HQ's injected `commcare_*` keys (`commcare_project`, ...). */
  user_data: Record<string, unknown>;
  /** A Python repr string on HQ, not structured JSON. */
  eulas: string;
  resource_uri: string;
  /** Only with `extras: true`. */
  extras?: {
    submitted_last_30: number;
    completed_last_30: number;
    submitted_last_month: number;
    completed_last_month: number;
  };
  [field: string]: unknown;
}

/**
 * `POST user/` body (`MobileWorkerWrite`, user.yaml). `username` is the short name;
 * `password` is required unless `require_account_confirmation` or `connect_username`.
 * HQ silently ignores field errors during create (per its OpenAPI notes).
 */
export interface MobileWorkerCreate {
  username: string;
  password?: string;
  first_name?: string;
  last_name?: string;
  email?: string;
  /** The first becomes `default_phone_number`. */
  phone_numbers?: string[];
  default_phone_number?: string;
  groups?: string[];
  user_data?: Record<string, unknown>;
  language?: string;
  /** Must be one of `locations`. */
  primary_location?: string;
  locations?: string[];
  require_account_confirmation?: boolean;
  send_confirmation_email_now?: boolean;
  connect_username?: string;
  [field: string]: unknown;
}

/**
 * `PUT user/<id>/` body. `phone_numbers`, `groups` and `user_data` replace the stored
 * values wholesale (read first to change part of them); the username cannot change.
 */
export type MobileWorkerUpdate = Omit<
  MobileWorkerCreate,
  'username' | 'require_account_confirmation' | 'connect_username'
> & {
  [field: string]: unknown;
};

/** A web user (`WebUser`, user.yaml; `v0_5.WebUserResource`). */
export interface WebUser {
  id: string;
  username: string;
  first_name: string | null;
  last_name: string | null;
  default_phone_number: string | null;
  email: string;
  phone_numbers: string[];
  /** Role name in this project, `""` without a role. */
  role: string;
  permissions: Record<string, unknown>;
  is_admin: boolean;
  eulas: string;
  resource_uri: string;
  primary_location_id?: string;
  assigned_location_ids?: string[];
  profile?: string;
  user_data?: Record<string, unknown>;
  tableau_role?: string | null;
  is_active_in_domain?: boolean;
  /** Detail only. */
  tableau_groups?: string[];
  [field: string]: unknown;
}

/**
 * Body for creating a web user. HQ has no such endpoint (it invites web users by email,
 * `v1_0.InvitationResource`); the fieldsim emulator accepts `POST web-user/` with these
 * fields so that test projects can be set up through the API.
 */
export interface WebUserCreate {
  /** The login, an email address. `username` is accepted as an alias. */
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
  role?: string;
  is_admin?: boolean;
  phone_numbers?: string[];
  user_data?: Record<string, unknown>;
  [field: string]: unknown;
}

/** `PATCH web-user/<id>/` body (`WebUserUpdate`, user.yaml). `user_data` is merged on HQ. */
export interface WebUserUpdate {
  role?: string;
  /** Must be one of `assigned_location_ids`. */
  primary_location_id?: string;
  assigned_location_ids?: string[];
  profile?: string;
  user_data?: Record<string, unknown>;
  tableau_role?: string;
  tableau_groups?: string[];
  [field: string]: unknown;
}

// ---------------------------------------------------------------- groups

/** A group (`v0_5.GroupResource`). */
export interface Group {
  id: string;
  domain: string;
  name: string;
  case_sharing: boolean;
  reporting: boolean;
  /** Member user ids. */
  users: string[];
  metadata: Record<string, unknown>;
  path?: string[];
  resource_uri: string;
  [field: string]: unknown;
}

export interface GroupCreate {
  name: string;
  case_sharing?: boolean;
  reporting?: boolean;
  /** Member user ids; replaces the membership on edit. */
  users?: string[];
  metadata?: Record<string, unknown>;
  [field: string]: unknown;
}

export type GroupUpdate = Partial<GroupCreate>;

// ---------------------------------------------------------------- cases

/** One index of a case, keyed by its identifier (`get_index_map`). */
export interface ApiCaseIndex {
  case_type: string;
  case_id: string;
  relationship: 'child' | 'extension';
}

/** Case properties: the five HQ always writes, plus the application's own. */
export interface ApiCaseProperties {
  case_name: string;
  case_type: string;
  date_opened: HqDateTime | null;
  external_id: string | null;
  owner_id: string | null;
  [property: string]: unknown;
}

/** A case (`Case`, case.yaml; `v0_4.CommCareCaseResource`). */
export interface ApiCase {
  id: string;
  case_id: string;
  domain: string;
  /** Last modifier. */
  user_id: string | null;
  /** Phone clock, naive. */
  date_modified: HqDateTime;
  closed: boolean;
  date_closed: HqDateTime | null;
  server_date_modified: HqDateTime;
  server_date_opened: HqDateTime | null;
  indexed_on: HqDateTime;
  opened_by: string | null;
  closed_by: string | null;
  xform_ids: string[];
  properties: ApiCaseProperties;
  indices: Record<string, ApiCaseIndex>;
  resource_uri: string;
  /** With `child_cases__full`: children by case id. */
  child_cases?: Record<string, ApiCase>;
  /** With `parent_cases__full`: parents by case id. */
  parent_cases?: Record<string, ApiCase>;
  xforms_by_name?: Record<string, unknown>;
  xforms_by_xmlns?: Record<string, unknown>;
  [field: string]: unknown;
}

// ---------------------------------------------------------------- forms

/** The form instance as JSON (`xml2json`): `#type` root tag, `@attr`, `meta`, `case`. */
export interface ApiFormData {
  '#type': string;
  '@xmlns'?: string;
  '@name'?: string;
  '@version'?: string;
  '@uiVersion'?: string;
  meta?: Record<string, unknown>;
  case?: unknown;
  [node: string]: unknown;
}

/** The `meta` block as HQ summarises it (`metadata`). */
export interface ApiFormMetadata {
  appVersion?: string | null;
  deviceID?: string | null;
  instanceID?: string | null;
  timeStart?: HqDateTime | null;
  timeEnd?: HqDateTime | null;
  userID?: string | null;
  username?: string | null;
  location?: string | null;
  [field: string]: unknown;
}

export interface ApiFormAttachment {
  content_type: string;
  length: number;
  /** Relative URL of the attachment. */
  url?: string;
  [field: string]: unknown;
}

/** A form submission (`Form`, form.yaml; `v0_4.XFormInstanceResource`). */
export interface ApiForm {
  id: string;
  domain: string;
  form: ApiFormData;
  type: string;
  version: string;
  uiversion: string | null;
  submit_ip: string | null;
  metadata: ApiFormMetadata | null;
  received_on: HqDateTime;
  edited_on: HqDateTime | null;
  server_modified_on: HqDateTime;
  indexed_on: HqDateTime;
  app_id: string | null;
  build_id: string | null;
  initial_processing_complete: boolean | null;
  problem: string | null;
  archived: boolean;
  is_phone_submission: boolean;
  edited_by_user_id: string | null;
  attachments: Record<string, ApiFormAttachment>;
  /** With `cases__full`: the cases the form touched. */
  cases?: ApiCase[];
  resource_uri: string;
  [field: string]: unknown;
}

// ---------------------------------------------------------------- applications

/** An application as HQ sends it (`Application`, application.yaml); see `parseApplication`. */
export interface ApiApplication {
  id: string;
  name: string;
  version: number;
  is_released?: boolean | null;
  built_on?: HqDateTime | null;
  build_comment?: string | null;
  built_from_app_id?: string | null;
  modules: Record<string, unknown>[];
  versions?: {
    id: string;
    built_on: HqDateTime;
    build_comment: string;
    is_released: boolean;
    version: number;
  }[];
  resource_uri?: string;
  [field: string]: unknown;
}
