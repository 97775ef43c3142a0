import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, kids, multipart, text, xml } from './helpers.ts';

let emu: StartedEmulator;
let worker1Id: string;
beforeAll(async () => {
  emu = await startEmulator();
  const res = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
    method: 'POST',
    body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
  });
  worker1Id = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await emu.close();
});

function submit(body: BodyInit, headers: Record<string, string> = {}, auth = basic('worker1')) {
  return fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body,
    headers: { authorization: auth, ...headers },
  });
}

describe('POST /a/<domain>/receiver/', () => {
  it('accepts a multipart submission, answers 201 submit_success and applies the case', async () => {
    const form = caseForm({
      instanceId: 'form-1',
      caseId: 'case-1',
      userId: worker1Id,
      body: `<create><case_type>household</case_type><case_name>New household</case_name><owner_id>${worker1Id}</owner_id></create><update><village>hilltop</village></update>`,
    });
    const res = await submit(multipart(form), { 'X-OpenRosa-Version': '3.0' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-commcarehq-formid')).toBe('form-1');
    const body = xml(await res.text());
    expect(body.local).toBe('OpenRosaResponse');
    expect(body.ns).toBe('http://openrosa.org/http/response');
    const message = kids(body, 'message')[0]!;
    expect(message.attrs.nature).toBe('submit_success');
    expect(message.text).toBe('   √   ');
    const stored = emu.app.hq.processor.cases.get('case-1')!;
    expect(stored).toMatchObject({
      caseType: 'household',
      name: 'New household',
      ownerId: worker1Id,
      closed: false,
    });
    expect(stored.properties).toEqual({ village: 'hilltop' });
    expect(stored.xformIds).toEqual(['form-1']);
    const row = emu.app.db
      .prepare('SELECT state, xmlns, xml, user_id FROM forms WHERE form_id = ?')
      .get('form-1') as {
      state: string;
      xmlns: string;
      xml: string;
      user_id: string;
    };
    expect(row).toEqual({
      state: 'normal',
      xmlns: 'http://fieldsim.dev/test/form',
      xml: form,
      user_id: worker1Id,
    });
  });

  it('accepts the raw XML as the whole body', async () => {
    const form = caseForm({
      instanceId: 'form-raw',
      caseId: 'case-raw',
      userId: worker1Id,
      body: '<create><case_type>household</case_type><case_name>Raw</case_name></create>',
    });
    const res = await submit(form, { 'Content-Type': 'text/xml' });
    expect(res.status).toBe(201);
    // owner_id falls back to the block's user_id.
    expect(emu.app.hq.processor.cases.get('case-raw')).toMatchObject({ name: 'Raw', ownerId: worker1Id });
  });

  it('answers 401 with a Basic challenge for bad credentials and stores nothing', async () => {
    const form = caseForm({
      instanceId: 'form-401',
      caseId: 'case-401',
      body: '<create><case_type>t</case_type><case_name>n</case_name></create>',
    });
    const res = await submit(multipart(form), {}, basic('worker1', 'bad'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    const none = await fetch(`${emu.url}/a/demo/receiver/`, { method: 'POST', body: multipart(form) });
    expect(none.status).toBe(401);
    expect(emu.app.hq.processor.cases.get('case-401')).toBeUndefined();
  });

  it('answers 400 for a multipart body without xml_submission_file and for an empty body', async () => {
    const fd = new FormData();
    fd.append('other', new Blob(['x'], { type: 'text/xml' }), 'x.xml');
    expect((await submit(fd)).status).toBe(400);
    expect((await submit('', { 'Content-Type': 'text/xml' })).status).toBe(400);
  });

  it('answers 405 to GET', async () => {
    const res = await fetch(`${emu.url}/a/demo/receiver/`, { headers: { authorization: basic('worker1') } });
    expect(res.status).toBe(405);
  });

  it('shows the submitted change in the next restore', async () => {
    const form = caseForm({
      instanceId: 'form-2',
      caseId: 'case-1',
      userId: worker1Id,
      dateModified: '2026-01-02T10:00:00.000Z',
      body: '<update><village>lakeview</village><visit_count>3</visit_count></update>',
    });
    expect((await submit(multipart(form))).status).toBe(201);
    const res = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker1') },
    });
    const root = xml(await res.text());
    const block = kids(root, 'case').find((c) => c.attrs.case_id === 'case-1')!;
    expect(block.attrs.date_modified).toBe('2026-01-02T10:00:00.000000Z');
    expect(block.attrs.user_id).toBe(worker1Id);
    const update = kids(block, 'update')[0];
    expect(text(update, 'village')).toBe('lakeview');
    expect(text(update, 'visit_count')).toBe('3');
    expect(kids(root, 'case')).toHaveLength(27);
  });
});
