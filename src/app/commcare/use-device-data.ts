import { useEffect, useState } from 'preact/hooks';
import type { AppDeviceData } from '../../core/apps/app-device-data.ts';
import type { AppBackend } from '../state/app-backend.ts';
import { backend, caseVersion } from '../state/app-state.ts';

/**
 * One read of the device's cases, fixtures and user per change of the cases: every app
 * screen (menus, case lists, forms, a case's app forms) shares it instead of reading the
 * whole case database again on each step.
 */
let cached: { b: AppBackend; version: number; data: Promise<AppDeviceData> } | null = null;

function deviceData(b: AppBackend, version: number): Promise<AppDeviceData> {
  if (cached?.b !== b || cached.version !== version) {
    const data = b.deviceData();
    cached = { b, version, data };
    // A failed read is not kept: the next screen tries again.
    data.catch(() => {
      if (cached?.data === data) cached = null;
    });
  }
  return cached.data;
}

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
    deviceData(b, version).then(
      (device) => live && setState({ device, error: null }),
      (error: unknown) => live && setState({ device: null, error }),
    );
    return () => {
      live = false;
    };
  }, [b, version]);
  return state;
}
