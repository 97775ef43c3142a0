import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fillXForm, toComposedForm } from '../../../src/core/openrosa/fill-xform.ts';
import { parseFormList, parseManifest } from '../../../src/core/openrosa/form-list.ts';
import { OpenRosaClient } from '../../../src/core/openrosa/openrosa-client.ts';
import { openRosaEndpoints } from '../../../src/core/openrosa/openrosa-server-url.ts';
import { Outbox } from '../../../src/core/outbox/outbox.ts';
import { createInProcessLock } from '../../../src/core/platform.ts';
import type { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { type OpenRosaTestServer, startOpenRosaServer } from '../../helpers/openrosa-server.ts';
import { freshDb, metaApplier } from '../outbox/outbox-fixtures.ts';

const HOUSEHOLD = readFileSync(new URL('../../fixtures/openrosa/household.xml', import.meta.url), 'utf8');

let server: OpenRosaTestServer;
const dbs: FieldsimDb[] = [];
beforeEach(async () => {
  server = await startOpenRosaServer({
    forms: [
      { formId: 'household', xml: HOUSEHOLD },
      {
        formId: 'with media',
        xml: HOUSEHOLD.replace('id="household"', 'id="with media"'),
        media: { 'list.csv': 'a,b\n' },
      },
    ],
    users: { 'collector@example.org': 'pässword' },
    tokens: ['tok-1'],
  });
});
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  await server.close();
});

function client(url = server.projectUrl, user = 'collector@example.org', password = 'pässword') {
  return new OpenRosaClient({ url, username: user, password, deviceId: 'fieldsim:dev-1' });
}

function filled(answers: Record<string, string | number> = {}) {
  const r = fillXForm({
    form: HOUSEHOLD,
    answers: { head_name: 'Amina', members: 4, has_water: 'no', ...answers },
    deviceId: 'fieldsim:dev-1',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r;
}

function outboxFor(sender: OpenRosaClient) {
  const db = freshDb();
  dbs.push(db);
  return new Outbox({ db, cases: metaApplier(db), lock: createInProcessLock(), sender, preflight: true });
}

describe('endpoints from one URL', () => {
  it('takes a project, an app-user link, or either endpoint back to the base', () => {
    expect(openRosaEndpoints('https://c.example/v1/projects/1/')).toMatchObject({
      formListUrl: 'https://c.example/v1/projects/1/formList',
      submissionUrl: 'https://c.example/v1/projects/1/submission',
    });
    expect(openRosaEndpoints('https://c.example/v1/key/ab%24c/projects/7/formList')).toEqual({
      baseUrl: 'https://c.example/v1/key/ab%24c/projects/7',
      formListUrl: 'https://c.example/v1/key/ab%24c/projects/7/formList',
      submissionUrl: 'https://c.example/v1/key/ab%24c/projects/7/submission',
      appUserToken: 'ab$c',
    });
    expect(openRosaEndpoints('https://agg.example/submission?deviceID=x').formListUrl).toBe(
      'https://agg.example/formList',
    );
    expect(() => openRosaEndpoints('ftp://x')).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => openRosaEndpoints('not a url')).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });
});

describe('form list, download and manifest', () => {
  it('lists forms with Basic auth and X-OpenRosa-Version 1.0, downloads checked against the md5', async () => {
    const c = client();
    const list = await c.formList();
    expect(list.map((f) => [f.formId, f.name, f.version])).toEqual([
      ['household', 'Household survey', '2024010101'],
      ['with media', 'Household survey', '2024010101'],
    ]);
    expect(list[0]?.manifestUrl).toBeUndefined();
    expect(await c.downloadForm(list[0]!)).toBe(HOUSEHOLD);
    expect(await c.manifest(list[1]!)).toEqual([
      expect.objectContaining({ filename: 'list.csv', hash: expect.stringMatching(/^md5:/) }),
    ]);
    expect(server.requests.every((r) => r.version === '1.0' && r.auth)).toBe(true);
  });

  it('an app-user link needs no credentials; a wrong password is auth-invalid, a revoked token forbidden', async () => {
    expect(
      await new OpenRosaClient({ url: server.appUserUrl('tok-1'), deviceId: 'd' }).formList(),
    ).toHaveLength(2);
    expect(server.requests.at(-1)?.auth).toBe(false);
    await expect(
      client(server.projectUrl, 'collector@example.org', 'wrong').formList(),
    ).rejects.toMatchObject({
      code: 'auth-invalid',
      status: 401,
    });
    server.revoked.add('tok-1');
    await expect(
      new OpenRosaClient({ url: server.appUserUrl('tok-1'), deviceId: 'd' }).formList(),
    ).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
      serverMessage: 'The authenticated actor does not have rights to perform that action.',
    });
  });

  it('a download whose md5 differs from the list is refused', async () => {
    const [entry] = await client().formList();
    await expect(client().downloadForm({ ...entry!, hash: `md5:${'0'.repeat(32)}` })).rejects.toMatchObject({
      code: 'bad-response',
    });
  });

  it('parses lists without a namespace, refuses HTML and entries without a download URL', () => {
    expect(
      parseFormList(
        '<xforms><xform><formID>a</formID><downloadUrl>http://x/a.xml</downloadUrl></xform></xforms>',
      ),
    ).toEqual([{ formId: 'a', name: 'a', downloadUrl: 'http://x/a.xml' }]);
    expect(() => parseFormList('<html><body>Login</body></html>')).toThrow(
      expect.objectContaining({ code: 'xml-invalid' }),
    );
    expect(() => parseFormList('<html><body>Login')).toThrow(
      expect.objectContaining({ code: 'xml-malformed' }),
    );
    expect(() => parseFormList('<xforms><xform><formID>a</formID></xform></xforms>')).toThrow(
      expect.objectContaining({ code: 'xml-invalid' }),
    );
    expect(parseManifest('<manifest xmlns="http://openrosa.org/xforms/xformsManifest"/>')).toEqual([]);
  });
});

describe('filling and sending through the outbox', () => {
  it('fills with the XForm engine and sends: 1.0, deviceID on the URL, HEAD pre-flight 204 honoured', async () => {
    const c = client();
    const outbox = outboxFor(c);
    const f = filled();
    expect(f.instanceId).toMatch(/^uuid:/);
    expect(f.formId).toBe('household');
    await outbox.enqueue(toComposedForm(f));
    const report = await outbox.send();
    expect(report).toMatchObject({ sent: 1, quarantined: 0, remaining: 0 });
    expect(server.submissions).toEqual([
      expect.objectContaining({
        formId: 'household',
        instanceId: f.instanceId,
        deviceId: 'fieldsim:dev-1',
        actor: 'basic:collector@example.org',
      }),
    ]);
    // The pre-flight runs once per outbox run, before the first POST.
    expect(
      server.requests
        .filter((r) => r.path.includes('submission'))
        .map((r) => r.method)
        .slice(0, 2),
    ).toEqual(['HEAD', 'POST']);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('an identical resend (answer lost) is success; different XML under the same instanceID is a 409 conflict', async () => {
    const c = client();
    const f = filled();
    expect(await c.submit({ xml: f.xml })).toMatchObject({ status: 'accepted', httpStatus: 201 });
    expect(await c.submit({ xml: f.xml })).toMatchObject({ status: 'accepted', httpStatus: 201 });
    server.identicalResendStatus = 202;
    expect(await c.submit({ xml: f.xml })).toMatchObject({ status: 'accepted', httpStatus: 202 });
    expect(server.submissions).toHaveLength(1);
    const changed = f.xml.replace('<head_name>Amina</head_name>', '<head_name>Other</head_name>');
    const outbox = outboxFor(c);
    await outbox.enqueue({ ...toComposedForm(f), xml: changed });
    await outbox.enqueue(toComposedForm(filled({ head_name: 'Next' })));
    const report = await outbox.send();
    // The conflict is set aside and the queue goes on with the next form.
    expect(report).toMatchObject({ sent: 1, quarantined: 1 });
    const items = await outbox.list();
    expect(items[0]).toMatchObject({
      state: 'quarantined',
      quarantineReason: 'conflict',
      // Central escapes `/` and the like as numeric references; the message reads as plain text.
      serverMessage: `A resource already exists with instanceID value(s) of ${f.instanceId}.`,
    });
  });

  it('a 403 pauses the queue like a 401: nothing is quarantined, the form waits', async () => {
    const c = new OpenRosaClient({ url: server.appUserUrl('tok-1'), deviceId: 'd' });
    const outbox = outboxFor(c);
    await outbox.enqueue(toComposedForm(filled()));
    await outbox.enqueue(toComposedForm(filled({ head_name: 'B' })));
    server.revoked.add('tok-1');
    const report = await outbox.send();
    expect(report).toMatchObject({ sent: 0, quarantined: 0, stoppedBy: { code: 'forbidden' } });
    expect(outbox.paused).toMatchObject({ code: 'forbidden' });
    expect((await outbox.list()).map((i) => i.state)).toEqual(['queued', 'queued']);
    // Access given back and the user "logs in again": both go.
    server.revoked.delete('tok-1');
    outbox.resume();
    expect(await outbox.send()).toMatchObject({ sent: 2 });
    expect(server.submissions).toHaveLength(2);
  });
});
