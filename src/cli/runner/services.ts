import { HqApiClient } from '../../core/api/hq-api-client.ts';
import type { AppForm, AppModule, AppStructure } from '../../core/apps/app-structure.ts';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import { HttpError } from '../../core/errors/http-error.ts';
import { XFormError } from '../../core/errors/xform-error.ts';
import { basicAuthHeader } from '../../core/http/basic-auth.ts';
import type { FetchLike } from '../../core/platform.ts';
import { appFilesFromServer } from '../../core/suite/app-files-from-server.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { loadApp } from '../../core/suite/load-app.ts';
import { ForwardingWatch } from './forwarding-watch.ts';

/**
 * What workers need from the server beyond their own phone endpoints, through HQ's v0.5
 * JSON APIs with the admin credentials: the application structure (for `submit_form`),
 * case counts and the forms received (for `assert_server`). Shared by all workers of a
 * run, so the application is read once and the form list is read in shared snapshots
 * rather than once per worker.
 */
export interface RunServices {
  findForm(ref: string): Promise<{ app: AppStructure; module: AppModule; form: AppForm }>;
  /**
   * The installed app (suite + XForms) from HQ's phone download endpoints, read once per run;
   * null when the server does not serve the app's files (then forms are built from the
   * application structure, as before real apps ran).
   */
  realApp(appId: string): Promise<CommCareApp | null>;
  countCases(filters: {
    owner_id?: string;
    user_id?: string;
    type?: string;
    closed?: boolean;
  }): Promise<number>;
  /**
   * The instanceIDs of the forms the server lists for this user (one entry per stored
   * form, so a duplicate shows twice), from a snapshot taken no earlier than `notBefore`
   * (epoch ms). Returns the snapshot's start time with it.
   */
  formsOfUser(
    userId: string,
    xmlns: string | undefined,
    notBefore: number,
  ): Promise<{ ids: string[]; at: number }>;
  /** The run's forwarding watch for `assert_forwarded` (set up once, on first call). */
  forwarding(): Promise<ForwardingWatch>;
  /** Ends what the services set up (the forwarding watch's forwarder and sink). */
  close(): Promise<void>;
}

export interface AdminCredentials {
  username: string;
  password?: string;
  apiKey?: string;
}

interface FormEntry {
  id: string;
  xmlns: string;
}

interface Snapshot {
  at: number;
  byUser: Map<string, FormEntry[]>;
}

/** The names a form answers to: its xmlns, unique id, and its name in every language. */
function formMatches(form: AppForm, ref: string): boolean {
  const r = ref.trim().toLowerCase();
  return (
    form.xmlns === ref ||
    form.uniqueId === ref ||
    Object.values(form.name).some((n) => n.trim().toLowerCase() === r)
  );
}

export class ApiServices implements RunServices {
  readonly api: HqApiClient;
  /** The run's start (local clock): forms received before it are not this run's. */
  readonly #runStart: number;
  /** Server clock minus local clock, from the `Date` header of the first API answer. */
  #skewMs: number | null = null;
  #apps: Promise<AppStructure[]> | null = null;
  readonly #realApps = new Map<string, Promise<CommCareApp | null>>();
  readonly #download: { serverUrl: string; domain: string; fetch: FetchLike };
  #snapshot: Snapshot | null = null;
  /**
   * Forms the server listed in the run's window before any worker started (`formsBaseline`):
   * the window opens 2 s before the run to absorb the clock's resolution, so a form the
   * same user submitted just before the run would otherwise count as this run's.
   */
  #before: ReadonlySet<string> = new Set();
  #loading: { at: number; p: Promise<Snapshot> } | null = null;
  #forwarding: Promise<ForwardingWatch> | null = null;

  forwarding(): Promise<ForwardingWatch> {
    this.#forwarding ??= ForwardingWatch.start(this.api, this.#download.serverUrl);
    return this.#forwarding;
  }

  async close(): Promise<void> {
    const w = this.#forwarding;
    this.#forwarding = null;
    if (w) await (await w.catch(() => null))?.close();
  }

  constructor(opts: {
    serverUrl: string;
    domain: string;
    admin: AdminCredentials;
    fetch?: FetchLike;
    /** Epoch ms (local clock) when the run started. */
    runStart: number;
  }) {
    const { admin } = opts;
    const base: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));
    this.api = new HqApiClient({
      serverUrl: opts.serverUrl,
      domain: opts.domain,
      auth:
        admin.apiKey !== undefined
          ? { kind: 'api-key', username: admin.username, key: admin.apiKey }
          : { kind: 'basic', username: admin.username, password: admin.password ?? '' },
      fetch: async (input, init) => {
        const res = await base(input, init);
        const date = Date.parse(res.headers.get('date') ?? '');
        if (this.#skewMs === null && !Number.isNaN(date)) this.#skewMs = date - Date.now();
        return res;
      },
    });
    this.#runStart = opts.runStart;
    // The phone download endpoints take the same credentials as the API (HQ's
    // `safe_download` accepts a web user's Basic or API-key auth).
    const authHeader =
      admin.apiKey !== undefined
        ? `ApiKey ${admin.username}:${admin.apiKey}`
        : basicAuthHeader(admin.username, admin.password ?? '');
    this.#download = {
      serverUrl: opts.serverUrl,
      domain: opts.domain,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('Authorization', authHeader);
        return base(input, { ...init, headers });
      },
    };
  }

  realApp(appId: string): Promise<CommCareApp | null> {
    let p = this.#realApps.get(appId);
    if (p === undefined) {
      p = loadApp(
        appFilesFromServer({
          baseUrl: this.#download.serverUrl,
          domain: this.#download.domain,
          appId,
          fetch: this.#download.fetch,
        }),
      ).catch((e: unknown) => {
        // No build to download (an older emulator, an app never built): structure forms.
        if (e instanceof HttpError && e.status === 404) return null;
        if (e instanceof FieldsimError && e.code === 'not-found') return null;
        if (e instanceof XFormError && e.code === 'app-invalid' && e.file === 'profile.ccpr') return null;
        this.#realApps.delete(appId);
        throw e;
      });
      this.#realApps.set(appId, p);
    }
    return p;
  }

  async findForm(ref: string): Promise<{ app: AppStructure; module: AppModule; form: AppForm }> {
    this.#apps ??= this.api.applications.list();
    let apps: AppStructure[];
    try {
      apps = await this.#apps;
    } catch (e) {
      this.#apps = null; // let a later step try again
      throw e;
    }
    const hits: { app: AppStructure; module: AppModule; form: AppForm }[] = [];
    for (const app of apps)
      for (const module of app.modules)
        for (const form of module.forms) if (formMatches(form, ref)) hits.push({ app, module, form });
    const distinct = new Set(hits.map((h) => h.form.xmlns));
    if (hits.length === 0)
      throw new FieldsimError(
        'not-found',
        `No application form named ${JSON.stringify(ref)} (by name, xmlns or unique id) in ${apps.length} application(s)`,
      );
    if (distinct.size > 1)
      throw new FieldsimError(
        'invalid-argument',
        `${JSON.stringify(ref)} names ${distinct.size} different forms; use the xmlns instead`,
      );
    return hits[0] as { app: AppStructure; module: AppModule; form: AppForm };
  }

  countCases(filters: {
    owner_id?: string;
    user_id?: string;
    type?: string;
    closed?: boolean;
  }): Promise<number> {
    return this.api.cases.count(filters);
  }

  async #load(at: number): Promise<Snapshot> {
    const byUser = new Map<string, FormEntry[]>();
    // Forms are filtered on the server's receive time, so the run's start is moved to the
    // server's clock (HTTP Date header, 1 s resolution, hence the 2 s margin): an earlier
    // run's forms from the same users must not count as this run's.
    if (this.#skewMs === null) await this.api.forms.list({ limit: 1 });
    const since = this.#runStart + (this.#skewMs ?? 0) - 2000;
    // The v0.5 form API has no user filter: read the run's window once for all workers.
    for await (const f of this.api.forms.iterate({
      received_on_start: new Date(since),
      limit: 1000,
    })) {
      const userId = f.metadata?.userID ?? '';
      const id = f.metadata?.instanceID ?? f.id;
      if (this.#before.has(id)) continue;
      const xmlns = typeof f.form['@xmlns'] === 'string' ? f.form['@xmlns'] : '';
      let list = byUser.get(userId);
      if (!list) {
        list = [];
        byUser.set(userId, list);
      }
      list.push({ id, xmlns });
    }
    return { at, byUser };
  }

  /**
   * Reads the forms already in the run's window, before this shard's workers start, and
   * leaves them out of every later count (a CI run failed `count: sent` with 9 for 8: the
   * same user's `submit` a second before the run). Each shard has its own users, so
   * another shard's early forms in this list never belong to a user counted here.
   */
  async formsBaseline(): Promise<number> {
    const before = new Set<string>();
    for (const list of (await this.#load(Date.now())).byUser.values()) for (const f of list) before.add(f.id);
    this.#before = before;
    return before.size;
  }

  async formsOfUser(
    userId: string,
    xmlns: string | undefined,
    notBefore: number,
  ): Promise<{ ids: string[]; at: number }> {
    let snap = this.#snapshot;
    if (!snap || snap.at < notBefore) {
      if (!this.#loading || this.#loading.at < notBefore) {
        const at = Date.now();
        const p = this.#load(at);
        const loading = { at, p };
        this.#loading = loading;
        p.then(
          (s) => {
            if (!this.#snapshot || this.#snapshot.at < s.at) this.#snapshot = s;
            if (this.#loading === loading) this.#loading = null;
          },
          () => {
            if (this.#loading === loading) this.#loading = null;
          },
        );
      }
      snap = await this.#loading.p;
    }
    const list = snap.byUser.get(userId) ?? [];
    return {
      ids: list.filter((f) => xmlns === undefined || f.xmlns === xmlns).map((f) => f.id),
      at: snap.at,
    };
  }
}
