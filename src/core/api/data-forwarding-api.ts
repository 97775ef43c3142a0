import { HttpError } from '../errors/http-error.ts';
import { toQuery } from './api-params.ts';
import type { ApiTransport } from './api-transport.ts';
import type { ApiPage } from './api-types.ts';

/** Forwarder types of HQ's data-forwarding resource (a repeater's `doc_type`). */
export type ForwarderType = 'FormRepeater' | 'CaseRepeater' | 'ShortFormRepeater' | 'AppStructureRepeater';

/** A forwarder as `api/v0.5/data-forwarding/` answers (HQ's `RepeaterResource` plus the emulator's extras). */
export interface Forwarder {
  id: string;
  type: ForwarderType;
  domain: string;
  url: string;
  version: string | null;
  resource_uri: string;
  name?: string;
  /** `form_xml`, `case_xml`, `case_json`, `form_json`, `app_structure_id`. */
  format?: string;
  auth_type?: '' | 'basic' | 'bearer';
  username?: string;
  white_listed_form_xmlns?: string[];
  white_listed_case_types?: string[];
  black_listed_users?: string[];
  include_app_id_param?: boolean;
  paused?: boolean;
  /** Repeat records per state (the emulator's extra). */
  record_counts?: Record<RepeatRecordState, number>;
}

/** What `create`/`edit` send; `url` must be http(s) (a 400 `bad-request` otherwise). */
export interface ForwarderInput {
  type?: ForwarderType;
  url?: string;
  name?: string;
  format?: string;
  version?: string;
  auth_type?: '' | 'basic' | 'bearer';
  username?: string;
  /** The password for basic auth, or the token for bearer auth. Never read back. */
  password?: string;
  white_listed_form_xmlns?: string[];
  white_listed_case_types?: string[];
  black_listed_users?: string[];
  include_app_id_param?: boolean;
  paused?: boolean;
}

export type RepeatRecordState = 'pending' | 'success' | 'failed' | 'cancelled';

/** One entry of a forwarder's repeat-record log. */
export interface RepeatRecord {
  id: string;
  repeater_id: string;
  domain: string;
  payload_type: 'form' | 'case' | 'app';
  payload_id: string;
  state: RepeatRecordState;
  attempts: number;
  registered_at: string;
  last_checked: string | null;
  next_check: string | null;
  succeeded: boolean;
  succeeded_at: string | null;
  failure_reason: string;
  last_response: { status: number | null; body: string } | null;
}

export interface RepeatRecordParams {
  state?: RepeatRecordState;
  payload_id?: string;
  limit?: number;
  offset?: number;
}

const seg = (id: string) => `${encodeURIComponent(id)}/`;

/**
 * Data forwarding: `api/v0.5/data-forwarding/` (HQ's `RepeaterResource`, domain admins
 * only) and, on the emulator, each forwarder's repeat-record log at `<id>/records/`.
 */
export class DataForwardingApi {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    this.#t = t;
  }

  /** One page of forwarders. */
  list(params?: { limit?: number; offset?: number }): Promise<ApiPage<Forwarder>> {
    return this.#t.getPage<Forwarder>(this.#t.url('data-forwarding/', toQuery(params)));
  }

  /** Every forwarder of the domain. */
  async all(): Promise<Forwarder[]> {
    const out: Forwarder[] = [];
    for await (const p of this.#t.pages<Forwarder>(this.#t.url('data-forwarding/', toQuery({ limit: 100 }))))
      out.push(...p.objects);
    return out;
  }

  get(id: string): Promise<Forwarder> {
    return this.#t.getObject<Forwarder>(this.#t.url(`data-forwarding/${seg(id)}`));
  }

  /** `POST data-forwarding/`; HQ answers 201 (tastypie may send no body: then it is read back). */
  async create(input: ForwarderInput & { type: ForwarderType; url: string }): Promise<Forwarder> {
    const r = await this.#t.request('post', this.#t.url('data-forwarding/'), input);
    return this.#readBack(r.json, r.headers.get('location'));
  }

  /** `PUT data-forwarding/<id>/`: the fields given replace the stored ones. */
  async edit(id: string, patch: ForwarderInput): Promise<Forwarder> {
    const r = await this.#t.request('put', this.#t.url(`data-forwarding/${seg(id)}`), patch);
    return this.#readBack(r.json, null, id);
  }

  /** `DELETE data-forwarding/<id>/`; an unknown id is `not-found`. */
  async delete(id: string): Promise<void> {
    await this.#t.request('delete', this.#t.url(`data-forwarding/${seg(id)}`));
  }

  /** One page of a forwarder's repeat records, oldest first (emulator). */
  records(id: string, params?: RepeatRecordParams): Promise<ApiPage<RepeatRecord>> {
    return this.#t.getPage<RepeatRecord>(this.#t.url(`data-forwarding/${seg(id)}records/`, toQuery(params)));
  }

  /** Every repeat record of a forwarder (optionally of one state). */
  async allRecords(
    id: string,
    params: Omit<RepeatRecordParams, 'limit' | 'offset'> = {},
  ): Promise<RepeatRecord[]> {
    const out: RepeatRecord[] = [];
    const url = this.#t.url(`data-forwarding/${seg(id)}records/`, toQuery({ ...params, limit: 1000 }));
    for await (const p of this.#t.pages<RepeatRecord>(url)) out.push(...p.objects);
    return out;
  }

  async #readBack(json: unknown, location: string | null, id?: string): Promise<Forwarder> {
    if (typeof json === 'object' && json !== null && typeof (json as Forwarder).url === 'string')
      return json as Forwarder;
    if (location) return this.#t.getObject<Forwarder>(this.#t.resolveLink(location));
    const known =
      id ?? (typeof json === 'object' && json !== null ? (json as { id?: unknown }).id : undefined);
    if (typeof known === 'string') return this.get(known);
    throw new HttpError('bad-response', 'The server saved the forwarder but did not say which one', {
      status: 201,
      url: this.#t.url('data-forwarding/'),
    });
  }
}
