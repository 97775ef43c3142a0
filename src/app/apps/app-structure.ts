import { HqApiClient } from '../../core/api/hq-api-client.ts';
import {
  type AppStructure,
  applicationToWire,
  localName as coreLocalName,
  parseApplication,
} from '../../core/apps/app-structure.ts';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { FetchLike } from '../../core/platform.ts';

/**
 * The PWA's side of the application structure: the types and parsing live in core
 * (`src/core/apps/app-structure.ts`); this file loads the applications with a web user's
 * password or API key once, keeps the parsed result (no secrets) per domain in
 * localStorage for offline use, and names things in the browser's language.
 */
export {
  type AppForm,
  type AppFormAction,
  type AppModule,
  type AppQuestion,
  type AppStructure,
  findForm,
  parseApplication,
} from '../../core/apps/app-structure.ts';

export interface AppCredentials {
  username: string;
  secret: string;
  kind: 'password' | 'api-key';
}

/** The applications of `domain`, read once with these credentials (which are not kept). */
export async function fetchApplications(
  fetchFn: FetchLike,
  serverUrl: string,
  domain: string,
  credentials: AppCredentials,
): Promise<AppStructure[]> {
  const api = new HqApiClient({
    serverUrl,
    domain,
    fetch: fetchFn,
    auth:
      credentials.kind === 'api-key'
        ? { kind: 'api-key', username: credentials.username, key: credentials.secret }
        : { kind: 'basic', username: credentials.username, password: credentials.secret },
    // A person is waiting: one retry after a 429 at most.
    retry: { maxAttempts: 2 },
  });
  try {
    return await api.applications.list();
  } catch (e) {
    if (isFieldsimError(e) && e.code === 'auth-invalid')
      throw new Error('The server did not accept this web user or API key.');
    if (isFieldsimError(e) && e.code === 'forbidden')
      throw new Error('This account may not read the application (HQ allows web users only).');
    throw e;
  }
}

const cacheKey = (domain: string) => `fieldsim:apps:${domain.toLowerCase()}`;

export function cachedApplications(domain: string): AppStructure[] {
  try {
    const raw = localStorage.getItem(cacheKey(domain));
    const list: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? list.map(parseApplication) : [];
  } catch {
    return [];
  }
}

export function cacheApplications(domain: string, apps: AppStructure[]): void {
  // Stored in HQ's key names, which parseApplication reads back.
  try {
    localStorage.setItem(cacheKey(domain), JSON.stringify(apps.map(applicationToWire)));
  } catch {
    // Storage full or disabled: the forms last for this page only.
  }
}

/** The name in the browser's language, else English, else any. */
export function localName(
  n: Record<string, string>,
  lang = typeof navigator === 'undefined' ? 'en' : navigator.language,
): string {
  return coreLocalName(n, lang);
}
