import { type AppStructure, parseApplication } from '../apps/app-structure.ts';
import { HttpError } from '../errors/http-error.ts';
import {
  type CaseGetOptions,
  type CaseListParams,
  type FormListParams,
  type GroupListParams,
  type PageParams,
  toQuery,
  type UserListParams,
  type WebUserListParams,
} from './api-params.ts';
import { type ApiResponse, ApiTransport, type ApiTransportOptions } from './api-transport.ts';
import type {
  ApiApplication,
  ApiCase,
  ApiForm,
  ApiPage,
  Group,
  GroupCreate,
  GroupUpdate,
  MobileWorker,
  MobileWorkerCreate,
  MobileWorkerUpdate,
  WebUser,
  WebUserCreate,
  WebUserUpdate,
} from './api-types.ts';
import { DataForwardingApi } from './data-forwarding-api.ts';
import { iterateByIndexedOn } from './indexed-on-pager.ts';
import { ODataApi } from './odata-client.ts';

/**
 * A typed client for CommCare HQ's v0.5 JSON APIs (PROTOCOL.md 9): mobile workers, web
 * users, groups, cases, forms and the application structure, with tastypie pagination,
 * `ApiKey`/Basic auth, 429 back-off and typed errors (see `api-transport.ts`). Runs in
 * Node and browsers over an injected fetch. HQ's JSON APIs answer web users only.
 *
 * @example
 * const api = new HqApiClient({
 *   serverUrl: 'http://127.0.0.1:8000', domain: 'demo',
 *   auth: { kind: 'api-key', username: 'admin@example.com', key: 'fieldsim-demo-key' },
 * });
 * const worker = await api.users.create({ username: 'qa1', password: 'secret' });
 * for await (const c of api.cases.iterate({ owner_id: worker.id, closed: false })) console.log(c.case_id);
 */
export type HqApiClientOptions = ApiTransportOptions;

/** Page size `iterate` asks for when the caller gives no `limit` (HQ's default is 20). */
export const DEFAULT_ITERATE_LIMIT = 100;

const seg = (id: string) => `${encodeURIComponent(id)}/`;

/**
 * List operations shared by every paginated resource: one page (`list`), every object
 * across pages (`iterate`, `all`), every page (`pages`) and the match count (`count`).
 */
export class ListApi<T, P extends PageParams> {
  readonly #t: ApiTransport;
  readonly #path: string;

  constructor(transport: ApiTransport, path: string) {
    this.#t = transport;
    this.#path = path;
  }

  /** One page: `{ meta: {limit, offset, next, previous, total_count}, objects }`. */
  list(params?: P): Promise<ApiPage<T>> {
    return this.#t.getPage<T>(this.#t.url(this.#path, toQuery(params)));
  }

  /**
   * Every page from `params.offset` (default 0), following `meta.next`; `params.limit` is
   * the page size (default `DEFAULT_ITERATE_LIMIT`; the server caps it).
   */
  pages(params?: P): AsyncGenerator<ApiPage<T>, void, undefined> {
    const q = toQuery(params);
    if (!q.has('limit')) q.set('limit', String(DEFAULT_ITERATE_LIMIT));
    return this.#t.pages<T>(this.#t.url(this.#path, q));
  }

  /** Every matching object, page by page (lazily: stop iterating to stop fetching). */
  async *iterate(params?: P): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages(params)) yield* page.objects;
  }

  /** Every matching object in one array. */
  async all(params?: P): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this.iterate(params)) out.push(x);
    return out;
  }

  /** `meta.total_count` for these filters, fetched with a one-object page. */
  async count(params?: Omit<P, 'limit' | 'offset'>): Promise<number> {
    const q = toQuery(params);
    q.set('limit', '1');
    q.delete('offset');
    const page = await this.#t.getPage<T>(this.#t.url(this.#path, q));
    return page.meta.total_count;
  }
}

/**
 * The object a create/edit answered with. HQ's answers differ by resource: the user
 * resources return the full object (`always_return_data`), others only an id or nothing
 * with a `Location` header (tastypie `post_list`). When the answer is not the full
 * object, it is read back with a GET.
 */
async function objectFrom<T>(
  t: ApiTransport,
  r: ApiResponse,
  detailUrl: (id: string) => string,
  complete: (o: Record<string, unknown>) => boolean,
  fallbackUrl?: string,
): Promise<T> {
  if (typeof r.json === 'object' && r.json !== null && !Array.isArray(r.json)) {
    const o = r.json as Record<string, unknown>;
    if (complete(o)) return o as T;
    if (typeof o.id === 'string' && o.id !== '') return t.getObject<T>(detailUrl(o.id));
  }
  const location = r.headers.get('location');
  if (location) return t.getObject<T>(t.resolveLink(location));
  if (fallbackUrl) return t.getObject<T>(fallbackUrl);
  throw new HttpError('bad-response', 'The server created the object but did not say which one', {
    status: r.status,
    url: detailUrl(''),
  });
}

/** Mobile workers: `api/v0.5/user/` (PROTOCOL.md 9.4; `v0_5.CommCareUserResource`). Admin only. */
export class UsersApi extends ListApi<MobileWorker, UserListParams> {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    super(t, 'user/');
    this.#t = t;
  }

  #detail = (id: string) => this.#t.url(`user/${seg(id)}`);

  /**
   * One worker. HQ answers an unknown id with 400 (`bad-request`), not 404
   * (hq:docs/api/openapi/paths/user.yaml `getMobileWorker`).
   */
  get(id: string): Promise<MobileWorker> {
    return this.#t.getObject<MobileWorker>(this.#detail(id));
  }

  /**
   * `POST user/`: HQ answers 201 with the full worker. HQ wants the short `username`; a
   * full `<name>@<domain>.commcarehq.org` is shortened here.
   */
  async create(input: MobileWorkerCreate): Promise<MobileWorker> {
    const suffix = `@${this.#t.domain.toLowerCase()}.commcarehq.org`;
    const username = input.username.toLowerCase().endsWith(suffix)
      ? input.username.slice(0, -suffix.length)
      : input.username;
    const r = await this.#t.request('post', this.#t.url('user/'), { ...input, username });
    return objectFrom<MobileWorker>(this.#t, r, this.#detail, (o) => typeof o.username === 'string');
  }

  /** `PUT user/<id>/`: `phone_numbers`, `groups`, `user_data` replace the stored values. */
  async edit(id: string, patch: MobileWorkerUpdate): Promise<MobileWorker> {
    const r = await this.#t.request('put', this.#detail(id), patch);
    return objectFrom<MobileWorker>(
      this.#t,
      r,
      this.#detail,
      (o) => typeof o.username === 'string',
      this.#detail(id),
    );
  }

  /** `DELETE user/<id>/` retires the worker (HQ: 202); an unknown id is `not-found`. */
  async delete(id: string): Promise<void> {
    await this.#t.request('delete', this.#detail(id));
  }

  /** `POST user/<id>/activate/` (HQ: 202). */
  async activate(id: string): Promise<void> {
    await this.#t.request('post', this.#t.url(`user/${seg(id)}activate/`));
  }

  /** `POST user/<id>/deactivate/` (HQ: 202); the worker's mobile logins then fail. */
  async deactivate(id: string): Promise<void> {
    await this.#t.request('post', this.#t.url(`user/${seg(id)}deactivate/`));
  }
}

/** Web users: `api/v0.5/web-user/` (`v0_5.WebUserResource`). Admin only. */
export class WebUsersApi extends ListApi<WebUser, WebUserListParams> {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    super(t, 'web-user/');
    this.#t = t;
  }

  #detail = (id: string) => this.#t.url(`web-user/${seg(id)}`);

  /** One web user; an unknown id is a 400 on HQ (`bad-request`). */
  get(id: string): Promise<WebUser> {
    return this.#t.getObject<WebUser>(this.#detail(id));
  }

  /**
   * `POST web-user/`: a fieldsim emulator extension. Real HQ has no such endpoint (it
   * invites web users by email) and answers 405 (`bad-response`) or 404.
   */
  async create(input: WebUserCreate): Promise<WebUser> {
    const r = await this.#t.request('post', this.#t.url('web-user/'), input);
    return objectFrom<WebUser>(this.#t, r, this.#detail, (o) => typeof o.username === 'string');
  }

  /** `PATCH web-user/<id>/` (HQ: 202 with the user; `user_data` is merged). */
  async edit(id: string, patch: WebUserUpdate): Promise<WebUser> {
    const r = await this.#t.request('patch', this.#detail(id), patch);
    return objectFrom<WebUser>(
      this.#t,
      r,
      this.#detail,
      (o) => typeof o.username === 'string',
      this.#detail(id),
    );
  }
}

/** Groups: `api/v0.5/group/` (`v0_5.GroupResource`). Admin only. */
export class GroupsApi extends ListApi<Group, GroupListParams> {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    super(t, 'group/');
    this.#t = t;
  }

  #detail = (id: string) => this.#t.url(`group/${seg(id)}`);

  get(id: string): Promise<Group> {
    return this.#t.getObject<Group>(this.#detail(id));
  }

  /** `POST group/`; HQ may answer with the id only, in which case the group is read back. */
  async create(input: GroupCreate): Promise<Group> {
    const r = await this.#t.request('post', this.#t.url('group/'), input);
    return objectFrom<Group>(this.#t, r, this.#detail, (o) => typeof o.name === 'string');
  }

  /** `PUT group/<id>/`; `users` replaces the membership. */
  async edit(id: string, patch: GroupUpdate): Promise<Group> {
    const r = await this.#t.request('put', this.#detail(id), patch);
    return objectFrom<Group>(
      this.#t,
      r,
      this.#detail,
      (o) => typeof o.name === 'string' && o.id === id,
      this.#detail(id),
    );
  }
}

/**
 * Cases: `api/v0.5/case/` (PROTOCOL.md 9.2; `v0_4.CommCareCaseResource`). Elasticsearch
 * on HQ, so a just-submitted case may appear only after a delay.
 */
export class CasesApi extends ListApi<ApiCase, CaseListParams> {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    super(t, 'case/');
    this.#t = t;
  }

  /** One case, optionally with its children and parents in full; unknown is `not-found`. */
  get(caseId: string, opts: CaseGetOptions = {}): Promise<ApiCase> {
    const q = toQuery({
      child_cases__full: opts.childCasesFull || undefined,
      parent_cases__full: opts.parentCasesFull || undefined,
      xforms_by_name__full: opts.xformsByNameFull || undefined,
      xforms_by_xmlns__full: opts.xformsByXmlnsFull || undefined,
    });
    return this.#t.getObject<ApiCase>(this.#t.url(`case/${seg(caseId)}`, q));
  }

  /**
   * Every matching case, paged by `indexed_on` as commcare-export does (see
   * `iterateByIndexedOn`); `limit` is the page size (default 1000). `order_by` and
   * `offset` are the pager's own.
   */
  iterateByIndexedOn(
    params?: Omit<CaseListParams, 'order_by' | 'offset'>,
  ): AsyncGenerator<ApiCase, void, undefined> {
    return iterateByIndexedOn<ApiCase>(this.#t, 'case/', toQuery(params));
  }
}

/** Forms: `api/v0.5/form/` (PROTOCOL.md 9.3; `v0_4.XFormInstanceResource`), newest first by default. */
export class FormsApi extends ListApi<ApiForm, FormListParams> {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    super(t, 'form/');
    this.#t = t;
  }

  /** One form by id (its instanceID); unknown is `not-found`. */
  get(id: string): Promise<ApiForm> {
    return this.#t.getObject<ApiForm>(this.#t.url(`form/${seg(id)}`));
  }

  /**
   * A file submitted with a form (`form.xml` is the instance itself), from the
   * attachment's own `url` when a form object is given, else from
   * `/a/<domain>/api/form/attachment/<form_id>/<name>` (form.yaml `getFormAttachment`, a
   * plain Django view: its 404 is an HTML page).
   */
  attachment(form: ApiForm | string, name = 'form.xml'): Promise<Blob> {
    const link = typeof form === 'string' ? undefined : form.attachments[name]?.url;
    const id = typeof form === 'string' ? form : form.id;
    const url = link
      ? this.#t.resolveLink(link)
      : `${this.#t.serverUrl}/a/${encodeURIComponent(this.#t.domain)}/api/form/attachment/${encodeURIComponent(id)}/${encodeURIComponent(name)}`;
    return this.#t.getBlob(url);
  }

  /**
   * Every matching form, oldest index first, paged by `indexed_on` as commcare-export does
   * (see `iterateByIndexedOn`): safe over long lists and while forms keep arriving.
   */
  iterateByIndexedOn(
    params?: Omit<FormListParams, 'order_by' | 'offset'>,
  ): AsyncGenerator<ApiForm, void, undefined> {
    return iterateByIndexedOn<ApiForm>(this.#t, 'form/', toQuery(params));
  }

  /** The submitted XML of a form, as text. */
  async xml(form: ApiForm | string): Promise<string> {
    return (await this.attachment(form, 'form.xml')).text();
  }
}

/**
 * The Application Structure API: `api/v0.5/application/` (PROTOCOL.md 9.5). HQ returns
 * every application in one answer (`meta.limit` null); links are still followed if a
 * server pages them.
 */
export class ApplicationsApi {
  readonly #t: ApiTransport;

  constructor(t: ApiTransport) {
    this.#t = t;
  }

  /** Every application, as HQ sends them. */
  async listRaw(opts: { extras?: boolean } = {}): Promise<ApiApplication[]> {
    const out: ApiApplication[] = [];
    const url = this.#t.url('application/', toQuery({ extras: opts.extras || undefined }));
    for await (const page of this.#t.pages<ApiApplication>(url)) out.push(...page.objects);
    return out;
  }

  /** Every application, parsed into modules and forms (`parseApplication`). */
  async list(): Promise<AppStructure[]> {
    return (await this.listRaw()).map(parseApplication);
  }

  /** One application as HQ sends it. */
  getRaw(id: string): Promise<ApiApplication> {
    return this.#t.getObject<ApiApplication>(this.#t.url(`application/${seg(id)}`));
  }

  /** One application, parsed. */
  async get(id: string): Promise<AppStructure> {
    return parseApplication(await this.getRaw(id));
  }
}

export class HqApiClient {
  readonly serverUrl: string;
  readonly domain: string;
  readonly users: UsersApi;
  readonly webUsers: WebUsersApi;
  readonly groups: GroupsApi;
  readonly cases: CasesApi;
  readonly forms: FormsApi;
  readonly applications: ApplicationsApi;
  /** Data forwarding (repeaters) and their repeat-record logs. */
  readonly dataForwarding: DataForwardingApi;
  /** The OData feeds of forms and cases (`fieldsim export`). */
  readonly odata: ODataApi;
  readonly #t: ApiTransport;
  readonly #opts: HqApiClientOptions;

  constructor(opts: HqApiClientOptions) {
    this.#opts = opts;
    this.#t = new ApiTransport(opts);
    this.serverUrl = this.#t.serverUrl;
    this.domain = this.#t.domain;
    this.users = new UsersApi(this.#t);
    this.webUsers = new WebUsersApi(this.#t);
    this.groups = new GroupsApi(this.#t);
    this.cases = new CasesApi(this.#t);
    this.forms = new FormsApi(this.#t);
    this.applications = new ApplicationsApi(this.#t);
    this.dataForwarding = new DataForwardingApi(this.#t);
    this.odata = new ODataApi(this.#t);
  }

  /**
   * The same client with some options changed, e.g. `api.withOptions({ signal })` to make
   * one batch of calls cancellable, or `{ retry: { maxAttempts: 1 } }` for a quick probe.
   */
  withOptions(patch: Partial<HqApiClientOptions>): HqApiClient {
    const merged: HqApiClientOptions = { ...this.#opts, ...patch };
    // `retry` is merged field by field, so `{ retry: { maxAttempts: 1 } }` keeps the delays.
    if (this.#opts.retry || patch.retry) merged.retry = { ...this.#opts.retry, ...patch.retry };
    return new HqApiClient(merged);
  }

  /**
   * Any other v0.5 resource, e.g. `raw('get', 'location/')`: the same auth, back-off and
   * errors, the JSON body untyped. `path` is relative to `/a/<domain>/api/<version>/`.
   */
  async raw(
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    opts: { query?: Record<string, string | number | boolean | Date | undefined>; body?: unknown } = {},
  ): Promise<unknown> {
    const r = await this.#t.request(method, this.#t.url(path, toQuery(opts.query)), opts.body);
    return r.json;
  }
}
