import { useEffect, useRef } from 'preact/hooks';
import { AppFormView } from './apps/app-forms-view.tsx';
import './commcare/app-update-hook.ts';
import { AppRunView, AppsView } from './commcare/lazy-views.tsx';
import { OpenRosaScreen, openRosaMode } from './openrosa/openrosa-entry.tsx';
import { UpdatePrompt } from './pwa/update-prompt.tsx';
import { backend, booting, lockedBackend } from './state/app-state.ts';
import { type Route, route } from './state/router.ts';
import { AppShell } from './views/app-shell.tsx';
import { CaseDetailView } from './views/case-detail-view.tsx';
import { CaseListView } from './views/case-list-view.tsx';
import { DiagnosticsView } from './views/diagnostics-view.tsx';
import { CloseCaseForm, FormsView, RegisterHouseholdForm, UpdateCaseForm } from './views/forms-view.tsx';
import { HomeView } from './views/home-view.tsx';
import { LoginView } from './views/login-view.tsx';
import { OutboxView } from './views/outbox-view.tsx';
import { UnlockView } from './views/unlock-view.tsx';

function Screen() {
  const r = route.value;
  switch (r.name) {
    case 'home':
      return <HomeView />;
    case 'cases':
      return <CaseListView />;
    case 'case':
      return <CaseDetailView key={r.caseId} caseId={r.caseId} />;
    case 'forms':
      return <FormsView />;
    case 'form':
      if (r.form === 'register') return <RegisterHouseholdForm />;
      if (r.form === 'update') return <UpdateCaseForm key={r.caseId ?? ''} caseId={r.caseId} />;
      return <CloseCaseForm key={r.caseId ?? ''} caseId={r.caseId} />;
    case 'app-form':
      return (
        <AppFormView
          key={`${r.appId}/${r.formId}/${r.caseId ?? ''}/${r.draft ?? ''}`}
          appId={r.appId}
          formId={r.formId}
          caseId={r.caseId}
          draft={r.draft}
        />
      );
    case 'apps':
      return <AppsView />;
    case 'app':
      return <AppRunView key={`${r.appId}/${r.draft ?? ''}`} nav={r} />;
    case 'outbox':
      return <OutboxView />;
    case 'diagnostics':
      return <DiagnosticsView />;
  }
}

const TITLES: Record<Route['name'], string> = {
  home: 'Home',
  cases: 'Cases',
  case: 'Case',
  forms: 'Forms',
  form: 'Form',
  'app-form': 'Form',
  apps: 'Apps',
  app: 'App',
  outbox: 'Outbox',
  diagnostics: 'Diagnostics',
};

/** On each screen change: a title for the tab and screen readers, focus on the new content. */
function useScreenFocus(): void {
  const r = route.value;
  const loggedIn = backend.value !== null;
  const locked = lockedBackend.value !== null;
  useEffect(() => {
    document.title = loggedIn
      ? `${TITLES[r.name]} · fieldsim`
      : locked
        ? 'Unlock · fieldsim'
        : 'Log in · fieldsim';
  }, [r.name, loggedIn, locked]);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: false });
  }, [r]);
}

export function App() {
  useScreenFocus();
  if (booting.value) {
    return (
      <main id="main" aria-busy="true">
        <p class="muted">Opening fieldsim…</p>
      </main>
    );
  }
  return (
    <>
      <UpdatePrompt />
      {lockedBackend.value ? (
        <UnlockView />
      ) : openRosaMode.value && !backend.value ? (
        <OpenRosaScreen />
      ) : backend.value ? (
        <AppShell>
          <Screen />
        </AppShell>
      ) : (
        <LoginView />
      )}
    </>
  );
}
