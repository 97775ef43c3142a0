import { createReadStream, statSync } from 'node:fs';
import type { AppDeviceData } from '../../core/apps/app-device-data.ts';
import { type DeviceIdentity, readDeviceData } from '../../core/apps/read-device-data.ts';
import { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import { ingestRestore } from '../../core/store/restore-ingest.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { SqliteStore } from '../../node-store/sqlite-store.ts';
import { UsageError, type WorkerFlags } from '../worker-options.ts';
import { withWorker } from '../worker-session.ts';

export const CLI_DEVICE_ID = 'fieldsim-cli';

/** `cc:appVersion` as CommCare writes it, naming the app build that filled the form. */
export function appVersionText(app: CommCareApp): string {
  return `fieldsim, ${app.name} build ${app.version}`;
}

/**
 * The device an `app` command runs on: the cases, fixtures and user of a restore file
 * (loaded as the phone would, purge included), of a logged-in worker's state folder, or
 * an empty device (forms that need no case).
 */
export async function deviceDataFor(
  app: CommCareApp,
  opts: { restore?: string; stateFlags?: WorkerFlags },
): Promise<AppDeviceData> {
  const who = { deviceId: CLI_DEVICE_ID, appVersion: appVersionText(app) };
  if (opts.restore !== undefined && opts.stateFlags !== undefined)
    throw new UsageError('Give --restore or --state, not both');
  if (opts.restore !== undefined) {
    const st = statSync(opts.restore, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) throw new UsageError(`No such restore file: ${opts.restore}`);
    return fromRestore(createReadStream(opts.restore), who);
  }
  if (opts.stateFlags !== undefined) {
    const out = await withWorker(
      'app',
      opts.stateFlags,
      'none',
      async (w) => ({
        json: await readDeviceData(w.session.db, {
          ...who,
          deviceId: w.session.info.deviceId,
          username: w.session.info.username,
          userId: w.session.info.userId,
        }),
        text: [],
      }),
      { readOnly: true },
    );
    return out.json;
  }
  // Like the phone's practice mode: an app that ships a demo user's restore runs on it.
  if (app.demoUserRestore !== undefined) return fromRestore(oneChunk(app.demoUserRestore.xml), who);
  return {
    cases: [],
    fixtures: [],
    user: {
      deviceid: CLI_DEVICE_ID,
      appversion: who.appVersion,
      username: 'demo_user',
      userid: 'demo_user_id',
    },
  };
}

async function fromRestore(
  body: AsyncIterable<Uint8Array | string>,
  who: DeviceIdentity,
): Promise<AppDeviceData> {
  // A private in-memory SQLite database, as `restore-file` uses.
  const store = SqliteStore.open(':memory:');
  const db = new FieldsimDb('fieldsim-app', store.deps());
  try {
    await ingestRestore(db, body, { mode: 'full', purge: true });
    return await readDeviceData(db, who);
  } finally {
    db.close();
    store.close();
  }
}

async function* oneChunk(text: string): AsyncIterable<string> {
  yield text;
}
