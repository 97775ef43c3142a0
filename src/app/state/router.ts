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
    case 'outbox':
      return '#/outbox';
    case 'diagnostics':
      return '#/diagnostics';
  }
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
