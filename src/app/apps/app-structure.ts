import type { FetchLike } from '../../core/platform.ts';

/**
 * The application's modules and forms from HQ's Application Structure API
 * (`GET /a/<domain>/api/v0.5/application/`, PROTOCOL.md 9.5). HQ answers it to web users
 * only, so the app loads it with a web user's password or API key, keeps the result (no
 * secrets) per domain for offline use, and forgets the credentials at once.
 */
export interface AppQuestion {
  label: string;
  tag: string;
  type: string;
  required: boolean;
  options: { label: string; value: string }[];
}

export type AppFormAction = 'register' | 'register-child' | 'update' | 'close' | 'none';

export interface AppForm {
  xmlns: string;
  uniqueId: string;
  name: Record<string, string>;
  action: AppFormAction;
  questions: AppQuestion[];
}

export interface AppModule {
  uniqueId: string;
  name: Record<string, string>;
  caseType: string;
  forms: AppForm[];
}

export interface AppStructure {
  id: string;
  name: string;
  version: number;
  modules: AppModule[];
}

export interface AppCredentials {
  username: string;
  secret: string;
  kind: 'password' | 'api-key';
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function names(v: unknown): Record<string, string> {
  if (typeof v === 'string') return { en: v };
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(rec(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

function action(v: unknown): AppFormAction {
  return v === 'register' || v === 'register-child' || v === 'update' || v === 'close' ? v : 'none';
}

/** Reads one application object defensively: anything missing becomes empty, never an error. */
export function parseApplication(raw: unknown): AppStructure {
  const a = rec(raw);
  return {
    id: str(a.id),
    name: str(a.name, 'Application'),
    version: typeof a.version === 'number' ? a.version : 0,
    modules: arr(a.modules).map((m0) => {
      const m = rec(m0);
      return {
        uniqueId: str(m.unique_id),
        name: names(m.name),
        caseType: str(m.case_type),
        forms: arr(m.forms).map((f0) => {
          const f = rec(f0);
          return {
            xmlns: str(f.xmlns),
            uniqueId: str(f.unique_id),
            name: names(f.name),
            action: action(f.action),
            questions: arr(f.questions)
              .map((q0) => {
                const q = rec(q0);
                return {
                  label: str(q.label, str(q.tag)),
                  tag: str(q.tag),
                  type: str(q.type, 'Text'),
                  required: q.required === true,
                  options: arr(q.options).map((o0) => {
                    const o = rec(o0);
                    return { label: str(o.label, str(o.value)), value: str(o.value) };
                  }),
                };
              })
              .filter((q) => /^[A-Za-z_][A-Za-z0-9._-]*$/.test(q.tag)),
          };
        }),
      };
    }),
  };
}

export function authHeader(c: AppCredentials): string {
  if (c.kind === 'api-key') return `ApiKey ${c.username}:${c.secret}`;
  const bytes = new TextEncoder().encode(`${c.username}:${c.secret}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

export async function fetchApplications(
  fetchFn: FetchLike,
  serverUrl: string,
  domain: string,
  credentials: AppCredentials,
): Promise<AppStructure[]> {
  const url = `${serverUrl.replace(/\/+$/, '')}/a/${encodeURIComponent(domain)}/api/v0.5/application/`;
  const res = await fetchFn(url, {
    headers: { authorization: authHeader(credentials), accept: 'application/json' },
  });
  if (res.status === 401) throw new Error('The server did not accept this web user or API key.');
  if (res.status === 403)
    throw new Error('This account may not read the application (HQ allows web users only).');
  if (!res.ok) throw new Error(`The server answered ${res.status} for the application list.`);
  const body = rec(await res.json());
  return arr(body.objects).map(parseApplication);
}

const cacheKey = (domain: string) => `fieldsim:apps:${domain.toLowerCase()}`;

export function cachedApplications(domain: string): AppStructure[] {
  try {
    const raw = localStorage.getItem(cacheKey(domain));
    return raw ? arr(JSON.parse(raw)).map(parseApplication) : [];
  } catch {
    return [];
  }
}

export function cacheApplications(domain: string, apps: AppStructure[]): void {
  // Stored in our parsed shape; parseApplication reads both shapes' keys.
  const asApi = apps.map((a) => ({
    id: a.id,
    name: a.name,
    version: a.version,
    modules: a.modules.map((m) => ({
      unique_id: m.uniqueId,
      name: m.name,
      case_type: m.caseType,
      forms: m.forms.map((f) => ({
        xmlns: f.xmlns,
        unique_id: f.uniqueId,
        name: f.name,
        action: f.action,
        questions: f.questions,
      })),
    })),
  }));
  try {
    localStorage.setItem(cacheKey(domain), JSON.stringify(asApi));
  } catch {
    // Storage full or disabled: the forms last for this page only.
  }
}

/** The name in the user's language, else English, else any. */
export function localName(
  n: Record<string, string>,
  lang = typeof navigator === 'undefined' ? 'en' : navigator.language,
): string {
  const short = lang.split('-')[0] ?? 'en';
  return n[lang] ?? n[short] ?? n.en ?? Object.values(n)[0] ?? '';
}

export function findForm(
  apps: AppStructure[],
  appId: string,
  formId: string,
): { app: AppStructure; module: AppModule; form: AppForm } | undefined {
  const app = apps.find((a) => a.id === appId);
  if (!app) return undefined;
  for (const module of app.modules) {
    const form = module.forms.find((f) => f.uniqueId === formId);
    if (form) return { app, module, form };
  }
  return undefined;
}
