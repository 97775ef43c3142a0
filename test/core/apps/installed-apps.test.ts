import 'fake-indexeddb/auto';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextStep } from '../../../src/core/apps/app-navigation.ts';
import { entriesForCase } from '../../../src/core/apps/case-entries.ts';
import {
  downloadApp,
  installFromCcz,
  listServerApps,
  openInstalledApp,
  serverAppVersion,
} from '../../../src/core/apps/install-app.ts';
import { InstalledAppStore } from '../../../src/core/apps/installed-app-store.ts';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import type { CaseRecord } from '../../../src/core/protocol/casexml/case-types.ts';
import type { CommCareApp } from '../../../src/core/suite/commcare-app.ts';
import { buildCaseDbInstance } from '../../../src/core/xforms/instances/build-casedb-instance.ts';
import { DEMO_APP_ID } from '../../../src/server/seed/demo-app.ts';
import { demoAppFiles } from '../../../src/server/seed/demo-app-files.ts';
import { type StartedEmulator, startEmulator } from '../../helpers/start-emulator.ts';

const demoZip = (drop?: string): Uint8Array => {
  const files: Record<string, Uint8Array> = {};
  for (const [path, bytes] of demoAppFiles()) if (path !== drop) files[path] = bytes;
  return zipSync(files);
};

const household = (id: string, name: string, closed = false): CaseRecord => ({
  caseId: id,
  caseType: 'household',
  caseName: name,
  ownerId: 'u1',
  closed,
  dateOpened: '2024-01-02',
  lastModified: '2024-01-02T00:00:00Z',
  userId: 'u1',
  externalId: '',
  properties: { village: 'hilltop', household_size: '3' },
  indices: [],
  attachments: [],
});

const user = { deviceid: 'd1', appversion: 'test', username: 'worker1', userid: 'u1' };

describe('installing CommCare apps for the PWA', () => {
  let app: CommCareApp;

  beforeAll(async () => {
    app = (await installFromCcz(demoZip())).app;
  });

  it('installs a .ccz, stores exactly the files read, and reopens from the store', async () => {
    const { app: fromZip, files } = await installFromCcz(demoZip());
    expect(fromZip.name).toBe('fieldsim demo');
    expect(fromZip.uniqueId).toBe(DEMO_APP_ID);
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(['profile.ccpr', 'suite.xml', 'modules-0/forms-0.xml', 'fr/app_strings.txt']),
    );
    const store = new InstalledAppStore(undefined, 'apps-test-1');
    await store.put({
      domain: 'Demo',
      appId: fromZip.uniqueId,
      name: fromZip.name,
      version: fromZip.version,
      source: 'file',
      files,
      installedAt: 1,
    });
    await store.put({
      domain: 'other',
      appId: 'x',
      name: 'Other',
      version: 1,
      source: 'file',
      files: {},
      installedAt: 1,
    });
    const listed = await store.list('demo');
    expect(listed.map((r) => [r.name, r.version])).toEqual([['fieldsim demo', fromZip.version]]);
    const reopened = await openInstalledApp(listed[0] ?? { files: {} });
    expect([...reopened.forms.keys()].sort()).toEqual([...fromZip.forms.keys()].sort());
    await store.noteError('demo', fromZip.uniqueId, { at: 2, message: 'boom', file: 'suite.xml' });
    expect((await store.get('demo', fromZip.uniqueId))?.lastError?.file).toBe('suite.xml');
    expect(Object.keys((await store.get('demo', fromZip.uniqueId))?.files ?? {}).length).toBe(
      Object.keys(files).length,
    );
    await store.clearError('demo', fromZip.uniqueId);
    expect((await store.get('demo', fromZip.uniqueId))?.lastError).toBeUndefined();
    store.close();
  });

  it('names the missing file of a broken .ccz and refuses a non-zip', async () => {
    const err = await installFromCcz(demoZip('modules-0/forms-1.xml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XFormError);
    expect((err as XFormError).code).toBe('app-invalid');
    expect((err as XFormError).file).toBe('modules-0/forms-1.xml');
    const notZip = await installFromCcz(new TextEncoder().encode('hello')).catch((e: unknown) => e);
    expect((notZip as XFormError).code).toBe('app-invalid');
    expect((notZip as XFormError).file).toBe('.ccz');
  });

  it('walks the session: root menu, a menu, computed datum, case list, form', () => {
    const cases = [household('h1', 'Alpha'), household('h2', 'Closed one', true)];
    const casedb = buildCaseDbInstance(cases);
    const ctx = {
      instance: (src: string) => (src === 'jr://instance/casedb' ? casedb : undefined),
      user,
      lang: 'en',
      uuid: () => 'new-id',
    };
    const root = nextStep(app, { data: {} }, ctx);
    expect(root.kind === 'menu' && root.items.map((i) => i.text)).toEqual(['Households', 'Members']);
    const m0 = nextStep(app, { command: 'm0', data: {} }, ctx);
    expect(m0.kind === 'menu' && m0.items.map((i) => i.id)).toEqual(['m0-f0', 'm0-f1', 'm0-f2']);
    const reg = nextStep(app, { command: 'm0-f0', data: {} }, ctx);
    expect(reg).toEqual({ kind: 'compute', data: { case_id_new_household_0: 'new-id' } });
    const regForm = nextStep(app, { command: 'm0-f0', data: { case_id_new_household_0: 'new-id' } }, ctx);
    expect(regForm.kind === 'form' && regForm.entry.commandId).toBe('m0-f0');
    const follow = nextStep(app, { command: 'm0-f1', data: {} }, ctx);
    expect(follow.kind === 'select' && follow.datum.id).toBe('case_id');
    const member = nextStep(app, { command: 'm1-f0', data: { parent_id: 'h1' } }, ctx);
    expect(member).toEqual({ kind: 'compute', data: { parent_id: 'h1', case_id_new_member_0: 'new-id' } });
    // Once a case is chosen in m0, the registration form (no case_id datum) is no longer offered.
    const m0WithCase = nextStep(app, { command: 'm0', data: { case_id: 'h1' } }, ctx);
    expect(m0WithCase.kind === 'menu' && m0WithCase.items.map((i) => i.id)).toEqual(['m0-f1', 'm0-f2']);
  });

  it('lists the forms that apply to a case: open households only', () => {
    const cases = [household('h1', 'Alpha'), household('h2', 'Closed one', true)];
    const casedb = buildCaseDbInstance(cases);
    const ctx = {
      instance: (src: string) => (src === 'jr://instance/casedb' ? casedb : undefined),
      user,
      lang: 'fr',
    };
    const open = entriesForCase(app, 'h1', ctx);
    expect(open.map((e) => [e.commandId, e.datumId])).toEqual([
      ['m0-f1', 'case_id'],
      ['m0-f2', 'case_id'],
      ['m1-f0', 'parent_id'],
    ]);
    expect(open[0]?.menuText).toBe('Ménages');
    expect(entriesForCase(app, 'h2', ctx)).toEqual([]);
  });
});

describe('installing from the server the worker logged in to', () => {
  let emu: StartedEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(() => emu.close());

  it('lists the apps with the worker credentials, downloads the build and reads its version', async () => {
    const opts = { baseUrl: emu.url, domain: 'demo', auth: { username: 'worker1', password: 'fieldsim' } };
    const listed = await listServerApps(opts);
    expect(listed.map((a) => a.appId)).toContain(DEMO_APP_ID);
    const { app, files } = await downloadApp({ ...opts, appId: DEMO_APP_ID });
    expect(app.name).toBe('fieldsim demo');
    expect(files['suite.xml']).toBeDefined();
    expect(await serverAppVersion({ ...opts, appId: DEMO_APP_ID })).toBe(app.version);
    const refused = await listServerApps({ ...opts, auth: { username: 'worker1', password: 'wrong' } }).catch(
      (e: unknown) => e,
    );
    expect((refused as { code?: string }).code).toBe('auth-invalid');
  });
});
