import type { Hono } from 'hono';
import type { Env, Hq } from '../context.ts';
import { registerExportApi } from '../routes/export-api.ts';
import { registerLocationsApi } from '../routes/locations-api.ts';
import { registerOData } from '../routes/odata.ts';

/**
 * The data export endpoints (HQ's Export API, the OData feeds of forms and cases) and the
 * location resources commcare-export reads next to them.
 */
export function registerExports(app: Hono<Env>, hq: Hq): void {
  registerExportApi(app, hq);
  registerOData(app, hq);
  registerLocationsApi(app, hq);
}
