import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, CASE_NS, caseForm, kids, multipart, xml } from './helpers.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator({ settings: { maxXmlBytes: 4096, maxAttachmentBytes: 2048 } });
});
afterAll(async () => {
  await emu.close();
});

async function submit(body: FormData | string, version = '2.0') {
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body,
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': version },
  });
  const text = await res.text();
  const m = text.startsWith('<OpenRosaResponse') ? kids(xml(text), 'message')[0] : undefined;
  return {
    status: res.status,
    text,
    nature: m?.attrs.nature,
    message: m?.text,
    formId: res.headers.get('x-commcarehq-formid'),
  };
}
const getCase = (id: string) => emu.app.hq.processor.cases.get(id);

function twoBlocks(instanceId: string, caseId: string, first: string, second: string): string {
  const block = (body: string) =>
    `<case xmlns="${CASE_NS}" case_id="${caseId}" date_modified="2026-02-01T10:00:00Z" user_id="u1">${body}</case>`;
  return `<data xmlns="http://fieldsim.dev/test/multi"><group>${block(first)}</group><repeat><item>${block(second)}</item></repeat><meta><instanceID>${instanceId}</instanceID></meta></data>`;
}

describe('HQ case-processing rules', () => {
  it('merges several blocks of one case: create then update (test_multiple_case_blocks)', async () => {
    const form = twoBlocks(
      'multi-1',
      'multi-case',
      '<create><case_type>t</case_type><case_name>n</case_name></create><update><p1>v1</p1><p2>v2</p2></update>',
      '<update><p2>v4</p2><p3>v3</p3></update>',
    );
    expect((await submit(multipart(form))).status).toBe(201);
    const c = getCase('multi-case')!;
    expect(c.properties).toEqual({ p1: 'v1', p2: 'v4', p3: 'v3' });
    expect(c.xformIds).toEqual(['multi-1']);
  });

  it('applies a create block before an update block listed earlier (test_case_block_ordering)', async () => {
    const form = twoBlocks(
      'order-1',
      'order-case',
      '<update><p>2</p></update>',
      '<create><case_type>t</case_type><case_name>n</case_name></create><update><p>1</p></update>',
    );
    expect((await submit(multipart(form))).status).toBe(201);
    expect(getCase('order-case')!.properties.p).toBe('2');
  });

  it('applies actions in HQ order regardless of document order within a block', async () => {
    const form = caseForm({
      instanceId: 'doc-order',
      caseId: 'doc-order-case',
      userId: 'u1',
      body: '<close/><update><p>x</p></update><create><case_type>t</case_type><case_name>n</case_name><owner_id>o1</owner_id></create>',
    });
    expect((await submit(multipart(form))).status).toBe(201);
    expect(getCase('doc-order-case')).toMatchObject({
      closed: true,
      name: 'n',
      ownerId: 'o1',
      properties: { p: 'x' },
    });
  });

  it('creates a case from an update to an unknown id, owned by the block user', async () => {
    const form = caseForm({
      instanceId: 'ubc',
      caseId: 'ubc-case',
      userId: 'u9',
      body: '<update><a>b</a></update>',
    });
    expect((await submit(multipart(form))).status).toBe(201);
    expect(getCase('ubc-case')).toMatchObject({ ownerId: 'u9', openedBy: 'u9', properties: { a: 'b' } });
  });

  it('keeps a closed case closed on later updates', async () => {
    const form = caseForm({
      instanceId: 'after-close',
      caseId: 'doc-order-case',
      userId: 'u1',
      dateModified: '2026-03-01T00:00:00Z',
      body: '<update><p>y</p></update>',
    });
    expect((await submit(multipart(form))).status).toBe(201);
    expect(getCase('doc-order-case')).toMatchObject({ closed: true, properties: { p: 'y' } });
  });

  it('removes an index with empty text and accepts extension indices', async () => {
    const host = caseForm({
      instanceId: 'idx-1',
      caseId: 'idx-child',
      userId: 'u1',
      body: `<create><case_type>t</case_type><case_name>c</case_name></create><index><parent case_type="t">multi-case</parent><host case_type="t" relationship="extension">order-case</host></index>`,
    });
    expect((await submit(multipart(host))).status).toBe(201);
    expect(getCase('idx-child')!.indices).toEqual([
      { identifier: 'parent', caseType: 't', caseId: 'multi-case', relationship: 'child' },
      { identifier: 'host', caseType: 't', caseId: 'order-case', relationship: 'extension' },
    ]);
    const remove = caseForm({
      instanceId: 'idx-2',
      caseId: 'idx-child',
      userId: 'u1',
      dateModified: '2026-03-01T00:00:00Z',
      body: '<index><parent case_type="t"/></index>',
    });
    expect((await submit(multipart(remove))).status).toBe(201);
    expect(getCase('idx-child')!.indices.map((i) => i.identifier)).toEqual(['host']);
  });

  const errorCases: [string, string, string][] = [
    ['IllegalCaseId', '', '<create><case_type>t</case_type><case_name>n</case_name></create>'],
    [
      'CaseValueError',
      'long-name',
      `<create><case_type>t</case_type><case_name>${'x'.repeat(256)}</case_name></create>`,
    ],
    ['CaseValueError', 'bad-opened', '<update><date_opened>not-a-date</date_opened></update>'],
    ['UsesReferrals', 'referral', '<referral><referral_id>r</referral_id></referral>'],
  ];
  it.each(errorCases)('saves an error form for %s (%s)', async (type, caseId, body) => {
    const instanceId = `err-${type}-${caseId}`;
    const form = caseForm({ instanceId, caseId, userId: 'u1', body });
    const r2 = await submit(multipart(form), '2.0');
    expect(r2.status).toBe(201);
    expect(r2.nature).toBe('submit_error');
    expect(r2.message?.startsWith(`${type}: `)).toBe(true);
    expect(getCase(caseId)).toBeUndefined();
    const row = emu.app.db.prepare('SELECT state, problem FROM forms WHERE form_id = ?').get(instanceId) as {
      state: string;
      problem: string;
    };
    expect(row.state).toBe('error');
    // An errored form sent again is processed again (not a duplicate), and under 3.0 is a 422.
    const r3 = await submit(multipart(form), '3.0');
    expect(r3.status).toBe(422);
    expect(r3.nature).toBe('processing_failure');
  });

  it('rejects a bad date_modified with PhoneDateValueError', async () => {
    const form = caseForm({
      instanceId: 'bad-date',
      caseId: 'bad-date-case',
      dateModified: '2026-13-45T99:00:00',
      body: '<update><a>b</a></update>',
    });
    const r = await submit(multipart(form), '3.0');
    expect(r.status).toBe(422);
    expect(r.message).toMatch(/^PhoneDateValueError: /);
  });

  it('accepts phone date offsets such as +01 and -05:00', async () => {
    const form = caseForm({
      instanceId: 'offset',
      caseId: 'offset-case',
      dateModified: '2016-03-02T10:21:48.715+01',
      body: '<create><case_type>t</case_type><case_name>n</case_name></create>',
    });
    expect((await submit(multipart(form))).status).toBe(201);
    expect(getCase('offset-case')!.modifiedOn).toBe('2016-03-02T09:21:48.715Z');
  });

  it("lists a case's forms from its transactions: by receipt, an edit in its original's place, an error form never", async () => {
    const f = (instanceId: string, body: string) => caseForm({ instanceId, caseId: 'xf-case', body });
    expect(
      (
        await submit(
          multipart(f('xf-1', '<create><case_type>t</case_type><case_name>a</case_name></create>')),
        )
      ).status,
    ).toBe(201);
    expect((await submit(multipart(f('xf-2', '<update><p>1</p></update>')))).status).toBe(201);
    expect((await submit(multipart(f('xf-3', '<update><p>2</p></update>')))).status).toBe(201);
    // An edit of xf-2 (same id, other bytes) and a form that fails (index to a missing case).
    expect((await submit(multipart(f('xf-2', '<update><p>1b</p></update>')))).status).toBe(201);
    const bad = f('xf-4', '<index><parent case_type="t">no-such-case</parent></index>');
    expect((await submit(multipart(bad), '3.0')).status).toBe(422);
    const c = getCase('xf-case')!;
    expect(c.xformIds).toEqual(['xf-1', 'xf-2', 'xf-3']);
    // The list is not kept on the case row (it would grow with every form).
    const row = emu.app.db.prepare('SELECT xform_ids FROM cases WHERE case_id = ?').get('xf-case') as {
      xform_ids: string;
    };
    expect(row.xform_ids).toBe('[]');
  });

  it('stores attachments with their content type', async () => {
    const form = caseForm({
      instanceId: 'with-photo',
      caseId: 'photo-case',
      body: '<update><photo>p.jpg</photo></update>',
    });
    const data = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const r = await submit(multipart(form, [{ name: 'p.jpg', type: 'image/jpeg', data }]));
    expect(r.status).toBe(201);
    const row = emu.app.db
      .prepare('SELECT content_type, data FROM form_attachments WHERE form_id = ? AND name = ?')
      .get('with-photo', 'p.jpg') as { content_type: string; data: Buffer };
    expect(row.content_type).toBe('image/jpeg');
    expect(new Uint8Array(row.data)).toEqual(data);
  });

  it('answers 413 above the XML and attachment limits', async () => {
    const big = `<data xmlns="http://x/y"><pad>${'x'.repeat(5000)}</pad></data>`;
    const r1 = await submit(multipart(big));
    expect(r1.status).toBe(413);
    const form = caseForm({
      instanceId: 'big-att',
      caseId: 'big-att-case',
      body: '<update><a>b</a></update>',
    });
    const r2 = await submit(
      multipart(form, [{ name: 'a.jpg', type: 'image/jpeg', data: new Uint8Array(3000) }]),
    );
    expect(r2.status).toBe(413);
    expect(getCase('big-att-case')).toBeUndefined();
  });

  it('answers 413 to a streamed body without Content-Length once it passes the limit', async () => {
    const chunk = new TextEncoder().encode(`<pad>${'x'.repeat(1000)}</pad>`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body,
      headers: { authorization: basic('worker1'), 'content-type': 'text/xml' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('answers 422 for an unsupported attachment type and 400 for non-file fields', async () => {
    const form = caseForm({
      instanceId: 'bad-att',
      caseId: 'bad-att-case',
      body: '<update><a>b</a></update>',
    });
    const r = await submit(
      multipart(form, [{ name: 'notes.exe', type: 'application/x-msdownload', data: new Uint8Array(3) }]),
    );
    expect(r.status).toBe(422);
    const fd = multipart(form);
    fd.append('field', 'value');
    expect((await submit(fd)).status).toBe(400);
  });

  it('refuses a DOCTYPE (entity expansion) as invalid XML', async () => {
    const evil = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><data xmlns="http://x/y">&b;</data>`;
    const r = await submit(multipart(evil));
    expect(r.status).toBe(500);
    expect(r.text).toContain('Invalid XML');
  });
});
