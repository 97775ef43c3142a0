import { useEffect, useState } from 'preact/hooks';
import { instanceResolver } from '../../core/apps/app-device-data.ts';
import { type CaseEntry, entriesForCase } from '../../core/apps/case-entries.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { backend } from '../state/app-state.ts';
import { href } from '../state/router.ts';
import { useInstalledAppLanguage } from './app-language.tsx';
import { loadInstalledApps, openApp } from './installed-apps.ts';
import { useDeviceData } from './use-device-data.ts';

/**
 * On a case's screen: the installed apps' forms that can be opened on this case (those
 * whose case list would offer it), each going straight to the form with the case chosen.
 */
export function CaseAppForms({ caseId }: { caseId: string }) {
  const b = backend.value;
  const domain = b?.info.domain ?? '';
  const [apps, setApps] = useState<CommCareApp[]>([]);
  useEffect(() => {
    let live = true;
    void loadInstalledApps(domain)
      .then((list) => Promise.all(list.map((r) => openApp(r).catch(() => null))))
      .then((opened) => live && setApps(opened.filter((a): a is CommCareApp => a !== null)));
    return () => {
      live = false;
    };
  }, [domain]);
  // The device's cases are read only when there is an app to ask.
  if (!b || apps.length === 0) return null;
  return <CaseAppFormsFor apps={apps} caseId={caseId} domain={domain} />;
}

function CaseAppFormsFor({ apps, caseId, domain }: { apps: CommCareApp[]; caseId: string; domain: string }) {
  const { device } = useDeviceData();
  if (!device) return null;
  return (
    <section class="card" aria-labelledby="app-forms-h">
      <h2 id="app-forms-h">App forms for this case</h2>
      {apps.map((app) => (
        <AppEntries key={app.uniqueId} app={app} caseId={caseId} device={device} domain={domain} />
      ))}
    </section>
  );
}

function AppEntries({
  app,
  caseId,
  device,
  domain,
}: {
  app: CommCareApp;
  caseId: string;
  device: NonNullable<ReturnType<typeof useDeviceData>['device']>;
  domain: string;
}) {
  const { lang } = useInstalledAppLanguage(domain, app);
  let entries: CaseEntry[];
  try {
    entries = entriesForCase(app, caseId, {
      instance: instanceResolver(device, {}),
      user: device.user,
      lang,
    });
  } catch {
    entries = [];
  }
  if (entries.length === 0) return null;
  return (
    <ul class="links" aria-label={app.name} lang={lang === 'default' ? undefined : lang}>
      {entries.map((e) => (
        <li key={e.commandId}>
          <a
            href={href({
              name: 'app',
              appId: app.uniqueId,
              command: e.commandId,
              data: { [e.datumId]: caseId },
            })}
          >
            {e.text}
          </a>{' '}
          <span class="muted">
            {e.menuText} · {app.name}
          </span>
        </li>
      ))}
    </ul>
  );
}
