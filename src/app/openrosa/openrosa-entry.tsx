import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * The "Generic OpenRosa server" mode of the PWA (ODK Central, Aggregate, Kobo): chosen on
 * the login screen, it replaces the CommCare screens with a form list, the XForm engine's
 * form entry and an outbox. Its screens load on first use, outside the initial bundle.
 */
export { openRosaMode } from './openrosa-mode.ts';

let loaded: ComponentType | null = null;

export function OpenRosaScreen() {
  const [C, setC] = useState<ComponentType | null>(() => loaded);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    if (C) return;
    import('./openrosa-app.tsx').then(
      (m) => {
        loaded = m.OpenRosaApp;
        setC(() => m.OpenRosaApp);
      },
      (e: unknown) => setFailed(e instanceof Error ? e.message : String(e)),
    );
  }, [C]);
  if (C) return <C />;
  if (failed)
    return (
      <p role="alert" class="field-error">
        This screen could not be loaded: {failed}
      </p>
    );
  return null;
}
