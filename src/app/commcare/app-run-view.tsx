import { useEffect, useState } from 'preact/hooks';
import { instanceResolver } from '../../core/apps/app-device-data.ts';
import { type AppStep, nextStep } from '../../core/apps/app-navigation.ts';
import type { InstalledAppRecord } from '../../core/apps/installed-app-store.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { entryAssertionFailure, menuAssertionFailure, menuText } from '../../core/suite/menu-navigation.ts';
import { displayText, makeScope, type SuiteContext } from '../../core/suite/suite-context.ts';
import type { SuiteEntry } from '../../core/suite/suite-model.ts';
import { backend } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href, type Route, replaceRoute } from '../state/router.ts';
import { LanguageSelect, useInstalledAppLanguage } from './app-language.tsx';
import { CaseConfirm, CaseSelect } from './case-select.tsx';
import { FormEntry } from './form-entry.tsx';
import { describeAppError, loadInstalledApps, openApp } from './installed-apps.ts';
import { useDeviceData } from './use-device-data.ts';

type AppRoute = Extract<Route, { name: 'app' }>;

/** Loads the installed app of the route (parsed once per build). */
function useInstalledApp(domain: string, appId: string) {
  const [state, setState] = useState<{ rec?: InstalledAppRecord; app?: CommCareApp; error?: string }>({});
  useEffect(() => {
    let live = true;
    setState({});
    void (async () => {
      try {
        const rec = (await loadInstalledApps(domain)).find((a) => a.appId === appId);
        if (!rec) {
          if (live) setState({ error: 'This app is not installed on this device.' });
          return;
        }
        const app = await openApp(rec);
        if (live) setState({ rec, app });
      } catch (e) {
        if (live) setState({ error: describeAppError(e) });
      }
    })();
    return () => {
      live = false;
    };
  }, [domain, appId]);
  return state;
}

/**
 * Running an installed app: its menus, case lists, case confirmation and forms, one
 * session step at a time (see `nextStep`). The route holds the whole session (command
 * and chosen datums), so Back, reloads and links from a case or the outbox all work.
 */
export function AppRunView({ nav }: { nav: AppRoute }) {
  const b = backend.value;
  const domain = b?.info.domain ?? '';
  const { rec, app, error } = useInstalledApp(domain, nav.appId);
  const { device, error: deviceError } = useDeviceData();
  if (!b) return null;
  if (error || deviceError) {
    return (
      <main id="main" tabIndex={-1}>
        <p>
          <a href="#/apps">← Apps</a>
        </p>
        <h1>App not available</h1>
        <p role="alert" class="field-error">
          {error ?? `The cases on this device cannot be read: ${describeError(deviceError)}`}
        </p>
      </main>
    );
  }
  if (!rec || !app || !device) {
    return (
      <main id="main" tabIndex={-1} aria-busy="true">
        <h1>Opening the app…</h1>
      </main>
    );
  }
  return <AppScreen nav={nav} app={app} domain={domain} device={device} />;
}

function AppScreen({
  nav,
  app,
  domain,
  device,
}: {
  nav: AppRoute;
  app: CommCareApp;
  domain: string;
  device: NonNullable<ReturnType<typeof useDeviceData>['device']>;
}) {
  const { lang, langs } = useInstalledAppLanguage(domain, app);
  const ctx: SuiteContext = {
    instance: instanceResolver(device, nav.data),
    user: device.user,
    lang,
    sessionData: nav.data,
  };
  let step: AppStep;
  let blocked: string | undefined;
  try {
    step = nextStep(app, nav, ctx);
    // The suite's <assertions>: a menu or a form whose assertion fails shows its message
    // instead (commcare-core `AssertionSet`, checked once the entry's datums are chosen).
    if (step.kind === 'menu' && step.menuId !== 'root') blocked = menuAssertionFailure(app, step.menuId, ctx);
    if (step.kind === 'form') blocked = entryAssertionFailure(app, step.entry, ctx);
  } catch (e) {
    return (
      <main id="main" tabIndex={-1}>
        <Crumbs app={app} />
        <h1>{app.name}</h1>
        <p role="alert" class="field-error">
          This screen of the app cannot be shown: {describeAppError(e)}
        </p>
      </main>
    );
  }
  const title = screenTitle(app, step, nav, ctx);
  return (
    <main id="main" tabIndex={-1} lang={lang === 'default' ? undefined : lang}>
      <Crumbs app={app} />
      <h1>{title}</h1>
      <LanguageSelect domain={domain} lang={lang} langs={langs} />
      {blocked !== undefined ? (
        <p role="alert" class="field-error">
          {blocked}
        </p>
      ) : (
        <StepView step={step} nav={nav} app={app} ctx={ctx} device={device} lang={lang} title={title} />
      )}
    </main>
  );
}

function Crumbs({ app }: { app: CommCareApp }) {
  return (
    <p>
      <a href="#/apps">← Apps</a> ·{' '}
      <a href={href({ name: 'app', appId: app.uniqueId, data: {} })}>{app.name}</a>{' '}
      <span class="muted">version {app.version}</span>
    </p>
  );
}

function entryText(app: CommCareApp, entry: SuiteEntry, ctx: SuiteContext): string {
  try {
    return displayText(makeScope(app, ctx, entry.instances), entry.display.text);
  } catch {
    return entry.commandId;
  }
}

function screenTitle(app: CommCareApp, step: AppStep, nav: AppRoute, ctx: SuiteContext): string {
  if (step.kind === 'menu') {
    if (step.menuId === 'root') return app.name;
    try {
      return menuText(app, step.menuId, ctx);
    } catch {
      return step.menuId;
    }
  }
  if (step.kind === 'compute') return app.name;
  const entry = step.entry;
  // A case list reached from a menu (follow-up module) is titled by that menu.
  if (step.kind === 'select' && nav.command && !app.entries.has(nav.command)) {
    try {
      return menuText(app, nav.command, ctx);
    } catch {
      return nav.command;
    }
  }
  return entryText(app, entry, ctx);
}

function StepView({
  step,
  nav,
  app,
  ctx,
  device,
  lang,
  title,
}: {
  step: AppStep;
  nav: AppRoute;
  app: CommCareApp;
  ctx: SuiteContext;
  device: NonNullable<ReturnType<typeof useDeviceData>['device']>;
  lang: string;
  title: string;
}) {
  switch (step.kind) {
    case 'compute':
      return <Computed nav={nav} data={step.data} />;
    case 'menu':
      return (
        <ul class="form-list" aria-label={`${title} menu`}>
          {step.items.map((item) => (
            <li key={item.id}>
              <a
                class="form-card"
                href={href({ name: 'app', appId: nav.appId, command: item.id, data: nav.data })}
              >
                <strong>{item.text}</strong>
                {item.kind === 'menu' && item.badge ? <span class="badge">{item.badge}</span> : null}
              </a>
            </li>
          ))}
          {step.items.length === 0 && <li class="muted">Nothing to show here.</li>}
        </ul>
      );
    case 'select':
      return nav.confirm ? (
        <CaseConfirm
          app={app}
          entry={step.entry}
          datum={step.datum}
          caseId={nav.confirm}
          ctx={ctx}
          nav={nav}
        />
      ) : (
        <CaseSelect app={app} entry={step.entry} datum={step.datum} ctx={ctx} nav={nav} />
      );
    case 'unsupported':
      return (
        <p role="alert" class="field-error">
          fieldsim cannot run this part of the app yet
          {step.features.length > 0 ? ` (${step.features.join(', ')})` : ' (a case view without a form)'}.
        </p>
      );
    case 'form':
      return (
        <FormEntry
          key={`${step.entry.commandId}/${nav.draft ?? ''}/${JSON.stringify(nav.data)}`}
          app={app}
          entry={step.entry}
          title={title}
          sessionData={nav.data}
          device={device}
          lang={lang}
          draftId={nav.draft}
        />
      );
  }
}

/** Computed datums (`uuid()` for a new case id) are kept in the route so they stay stable. */
function Computed({ nav, data }: { nav: AppRoute; data: Record<string, string> }) {
  useEffect(() => {
    replaceRoute({ ...nav, data });
  }, [nav, data]);
  return <p class="muted">Opening…</p>;
}
