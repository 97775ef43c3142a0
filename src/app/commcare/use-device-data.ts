import { useEffect, useState } from 'preact/hooks';
import type { AppDeviceData } from '../../core/apps/app-device-data.ts';
import { backend, caseVersion } from '../state/app-state.ts';

/** The cases, fixtures and user installed apps read; read again whenever cases change. */
export function useDeviceData(): { device: AppDeviceData | null; error: unknown } {
  const b = backend.value;
  const version = caseVersion.value;
  const [state, setState] = useState<{ device: AppDeviceData | null; error: unknown }>({
    device: null,
    error: null,
  });
  useEffect(() => {
    if (!b) return;
    let live = true;
    b.deviceData().then(
      (device) => live && setState({ device, error: null }),
      (error: unknown) => live && setState({ device: null, error }),
    );
    return () => {
      live = false;
    };
  }, [b, version]);
  return state;
}
