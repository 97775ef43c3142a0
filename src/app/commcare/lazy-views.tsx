import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Route } from '../state/router.ts';

/**
 * The installed-app screens load on first use: they bring the app loader, the XPath and
 * XForm engines, which the first screen (login, Home, cases) does not need, and the
 * initial bundle stays within its budget (README: Budgets). The service worker precaches
 * every chunk, so they open offline too.
 */
function lazyView<P extends object>(load: () => Promise<ComponentType<P>>, busy: string): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    const [failed, setFailed] = useState<string | null>(null);
    useEffect(() => {
      if (C) return;
      pending ??= load();
      pending.then(
        (v) => {
          loaded = v;
          setC(() => v);
        },
        (e: unknown) => {
          pending = null;
          setFailed(e instanceof Error ? e.message : String(e));
        },
      );
    }, [C]);
    if (C) return <C {...props} />;
    if (failed)
      return (
        <p role="alert" class="field-error">
          This screen could not be loaded: {failed}
        </p>
      );
    return busy ? <p class="muted">{busy}</p> : null;
  };
}

export const AppsView = lazyView(() => import('./apps-view.tsx').then((m) => m.AppsView), '');
export const AppRunView = lazyView<{ nav: Extract<Route, { name: 'app' }> }>(
  () => import('./app-run-view.tsx').then((m) => m.AppRunView),
  '',
);
export const CaseAppForms = lazyView<{ caseId: string }>(
  () => import('./case-app-forms.tsx').then((m) => m.CaseAppForms),
  '',
);
