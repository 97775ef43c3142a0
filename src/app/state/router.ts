import { signal } from '@preact/signals';

/**
 * Hash routes (`#/cases`, `#/case/<id>`, `#/forms/update?case=<id>`): they survive an offline
 * reload without any server rewrite and keep the service worker's navigation simple.
 */
export type Route =
  | { name: 'home' }
  | { name: 'cases' }
  | { name: 'case'; caseId: string }
  | { name: 'forms' }
  | { name: 'form'; form: 'register' | 'update' | 'close'; caseId?: string }
  | { name: 'app-form'; appId: string; formId: string; caseId?: string; draft?: string }
  | { name: 'apps' }
  | {
      name: 'app';
      appId: string;
      /** Menu or entry chosen last (root menu when absent). */
      command?: string;
      /** Session datums chosen so far, in order (`d.<id>=` in the hash). */
      data: Record<string, string>;
      /** A case picked in a case list, shown for confirmation. */
      confirm?: string;
      /** An incomplete form being resumed. */
      draft?: string;
    }
  | { name: 'outbox' }
  | { name: 'diagnostics' };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').map((p) => decodeURIComponent(p));
  switch (parts[0]) {
    case 'cases':
      return { name: 'cases' };
    case 'case':
      return parts[1] ? { name: 'case', caseId: parts[1] } : { name: 'cases' };
    case 'forms': {
      const form = parts[1];
      if (form === 'app' && parts[2] && parts[3]) {
        const caseId = params.get('case');
        const draft = params.get('draft');
        return {
          name: 'app-form',
          appId: parts[2],
          formId: parts[3],
          ...(caseId ? { caseId } : {}),
          ...(draft ? { draft } : {}),
        };
      }
      if (form === 'register' || form === 'update' || form === 'close') {
        const caseId = params.get('case');
        return caseId ? { name: 'form', form, caseId } : { name: 'form', form };
      }
      return { name: 'forms' };
    }
    case 'apps': {
      if (!parts[1]) return { name: 'apps' };
      const data: Record<string, string> = {};
      for (const [k, v] of params) if (k.startsWith('d.')) data[k.slice(2)] = v;
      const command = params.get('cmd');
      const confirm = params.get('confirm');
      const draft = params.get('draft');
      return {
        name: 'app',
        appId: parts[1],
        data,
        ...(command ? { command } : {}),
        ...(confirm ? { confirm } : {}),
        ...(draft ? { draft } : {}),
      };
    }
    case 'outbox':
      return { name: 'outbox' };
    case 'diagnostics':
      return { name: 'diagnostics' };
    default:
      return { name: 'home' };
  }
}

export function href(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'cases':
      return '#/cases';
    case 'case':
      return `#/case/${encodeURIComponent(route.caseId)}`;
    case 'forms':
      return '#/forms';
    case 'form':
      return `#/forms/${route.form}${route.caseId ? `?case=${encodeURIComponent(route.caseId)}` : ''}`;
    case 'app-form': {
      const q = new URLSearchParams();
      if (route.caseId) q.set('case', route.caseId);
      if (route.draft) q.set('draft', route.draft);
      const qs = q.toString();
      return `#/forms/app/${encodeURIComponent(route.appId)}/${encodeURIComponent(route.formId)}${qs ? `?${qs}` : ''}`;
    }
    case 'apps':
      return '#/apps';
    case 'app': {
      const q = new URLSearchParams();
      if (route.command) q.set('cmd', route.command);
      for (const [k, v] of Object.entries(route.data)) q.set(`d.${k}`, v);
      if (route.confirm) q.set('confirm', route.confirm);
      if (route.draft) q.set('draft', route.draft);
      const qs = q.toString();
      return `#/apps/${encodeURIComponent(route.appId)}${qs ? `?${qs}` : ''}`;
    }
    case 'outbox':
      return '#/outbox';
    case 'diagnostics':
      return '#/diagnostics';
  }
}

/** Replaces the current history entry (a computed datum must not leave a step to go back to). */
export function replaceRoute(to: Route): void {
  history.replaceState(null, '', href(to));
  route.value = to;
}

export const route = signal<Route>(parseRoute(typeof location === 'undefined' ? '' : location.hash));

export function startRouter(): void {
  window.addEventListener('hashchange', () => {
    route.value = parseRoute(location.hash);
  });
}

export function navigate(to: Route): void {
  location.hash = href(to);
}
