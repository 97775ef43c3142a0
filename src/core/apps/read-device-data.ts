import type { FixtureRecord } from '../protocol/restore/restore-types.ts';
import { CaseDb } from '../store/case-db.ts';
import type { FieldsimDb } from '../store/fieldsim-db.ts';
import { getFixture, listFixtureIds } from '../store/fixtures.ts';
import { listLedgerBalances } from '../store/ledgers.ts';
import { getRegistration } from '../store/sync-state.ts';
import type { AppDeviceData } from './app-device-data.ts';

export interface DeviceIdentity {
  deviceId: string;
  /** `cc:appVersion` and `session/context/appversion`. */
  appVersion: string;
  /** Used when the database holds no `<Registration>` (a restore without one). */
  username?: string;
  userId?: string;
}

/**
 * Everything an app reads from the device, out of a local database: every case (open and
 * closed: the casedb instance holds both, apps filter on `@status`), every fixture with
 * indexed rows inlined, stock balances, and the user from the restore's `<Registration>`.
 */
export async function readDeviceData(db: FieldsimDb, who: DeviceIdentity): Promise<AppDeviceData> {
  const caseDb = new CaseDb(db);
  const cases = await caseDb.getMany(await caseDb.ids());
  const fixtures: FixtureRecord[] = [];
  for (const id of await listFixtureIds(db)) {
    const f = await getFixture(db, id);
    if (f) fixtures.push(f);
  }
  const reg = await getRegistration(db);
  return {
    cases,
    fixtures,
    ledgers: await listLedgerBalances(db),
    user: {
      deviceid: who.deviceId,
      appversion: who.appVersion,
      username: reg?.username ?? who.username ?? '',
      userid: reg?.uuid ?? who.userId ?? '',
      userData: reg?.userData ?? {},
    },
  };
}
