import { describe, expect, it } from 'vitest';
import { isFieldsimError } from '../../../../src/core/errors/fieldsim-error.ts';
import { XmlError } from '../../../../src/core/errors/xml-error.ts';
import {
  fromString,
  parseRestore,
  parseRestoreAll,
  type RestoreBody,
} from '../../../../src/core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../../../../src/core/protocol/restore/restore-types.ts';
import { readSample } from '../../../contract/samples.ts';
import { cutStream } from '../../../helpers/cut-stream.ts';

const enc = new TextEncoder();

async function expectXmlError(body: RestoreBody, code: string, messagePart?: RegExp): Promise<XmlError> {
  try {
    await parseRestoreAll(body);
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    expect((e as XmlError).code).toBe(code);
    if (messagePart) expect((e as XmlError).message).toMatch(messagePart);
    return e as XmlError;
  }
  throw new Error('expected the payload to be rejected');
}

const wrap = (inner: string, rootAttrs = '') =>
  `<OpenRosaResponse xmlns="http://openrosa.org/http/response"${rootAttrs}>${inner}</OpenRosaResponse>`;

describe('parseRestore', () => {
  it('reads sync token, registration, fixture and case of case_create_basic.xml in document order', async () => {
    const ev = await parseRestoreAll(fromString(readSample('commcare-core/case_create_basic.xml')));
    expect(ev.map((e) => e.kind)).toEqual(['sync', 'registration', 'fixture', 'case']);
    expect(ev[0]).toEqual({ kind: 'sync', restoreId: 'sync_token_a' });
    const reg = ev[1] as Extract<RestoreEvent, { kind: 'registration' }>;
    expect(reg.registration).toEqual({
      username: 'test',
      passwordHash: 'sha1$60441$53cf77c2ac3608a944db96af177a6dfe1579e4ba',
      uuid: 'test_example',
      date: '2012-04-30',
      userData: {},
    });
    const fx = ev[2] as Extract<RestoreEvent, { kind: 'fixture' }>;
    expect(fx.fixture.id).toBe('user-groups');
    expect(fx.fixture.userId).toBe('test_example');
    expect(fx.fixture.root.children[0]?.attributes.id).toBe('test_group');
    const c = ev[3] as Extract<RestoreEvent, { kind: 'case' }>;
    expect(c.block).toEqual({
      caseId: 'case_one',
      dateModified: '2014-08-04T21:09:07.000000Z',
      userId: 'test_example',
      actions: [{ kind: 'create', caseType: 'retain_test', caseName: 'case', ownerId: 'test_group' }],
    });
  });

  it('gives the same events whatever the byte boundaries, including inside multi-byte characters', async () => {
    const xml = wrap(
      '<Sync xmlns="http://commcarehq.org/sync"><restore_id>t</restore_id></Sync>' +
        '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="é1" date_modified="2020-01-01" user_id="u">' +
        '<create><case_type>t</case_type><case_name>Zoë 😀 ñ</case_name><owner_id>u</owner_id></create>' +
        '<update><note>naïve — 漢字</note></update></case>',
    );
    const bytes = enc.encode(xml);
    const whole = await parseRestoreAll(fromString(xml));
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const ev = await parseRestoreAll(cutStream(bytes, [cut, cut + 1, cut + 3]));
      expect(ev).toEqual(whole);
    }
    const c = whole[1] as Extract<RestoreEvent, { kind: 'case' }>;
    expect(c.block.actions[0]).toMatchObject({ caseName: 'Zoë 😀 ñ' });
  });

  it('yields batches near the requested size while streaming, even from one big string', async () => {
    let cases = '';
    for (let i = 0; i < 3000; i++)
      cases += `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="d" user_id="u"><close/></case>`;
    const sizes: number[] = [];
    for await (const b of parseRestore(fromString(wrap(cases)), { batchSize: 500 })) sizes.push(b.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(3000);
    // Batches are cut between 16 KB slices of text: at least batchSize, at most one slice more.
    for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThanOrEqual(500);
    expect(Math.max(...sizes)).toBeLessThan(500 + 200);
    expect(sizes.length).toBeGreaterThanOrEqual(4);
  });

  it('reports the root items attribute, skips unknown top-level elements and tolerates BOM and whitespace', async () => {
    const xml =
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n\n  ' +
      wrap(
        '<message nature="ota_restore_success">ok</message><unknown><case case_id="hidden"/></unknown>' +
          '<Sync xmlns="http://commcarehq.org/sync"><restore_id>abc</restore_id></Sync><!-- note -->',
        ' items="3"',
      ) +
      '\n';
    const ev = await parseRestoreAll(fromString(xml));
    expect(ev).toEqual([
      { kind: 'items', count: 3 },
      { kind: 'sync', restoreId: 'abc' },
    ]);
    // A BOM at the start of a byte stream is dropped by the decoder.
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...enc.encode(wrap('<Sync xmlns="http://commcarehq.org/sync"><restore_id>x</restore_id></Sync>')),
    ]);
    expect(await parseRestoreAll(cutStream(bytes, [1, 2]))).toEqual([{ kind: 'sync', restoreId: 'x' }]);
  });

  it('only reads Sync in the sync namespace and ledger balances in the ledger namespace', async () => {
    const ev = await parseRestoreAll(
      fromString(
        wrap(
          '<Sync><restore_id>wrong-ns</restore_id></Sync>' +
            '<balance entity-id="e" section-id="s" date="d"><entry id="x" quantity="1"/></balance>' +
            '<ns0:balance xmlns:ns0="http://commcarehq.org/ledger/v1" entity-id="e" section-id="s" date="d"><ns0:entry id="x" quantity="4.5"/></ns0:balance>',
        ),
      ),
    );
    expect(ev).toEqual([
      {
        kind: 'ledger',
        balance: { entityId: 'e', sectionId: 's', date: 'd', entries: [{ id: 'x', quantity: 4.5 }] },
      },
    ]);
  });

  it('reads ledger balances of ledger_create_basic.xml', async () => {
    const ev = await parseRestoreAll(fromString(readSample('commcare-core/ledger_create_basic.xml')));
    const ledgers = ev.filter((e) => e.kind === 'ledger').map((e) => e.balance);
    expect(ledgers).toEqual([
      {
        entityId: 'ocean_state_job_lot',
        sectionId: 'cleaning_stock',
        date: '2015-05-29T00:00:00.000000Z',
        entries: [
          { id: 'soap', quantity: 9 },
          { id: 'bleach', quantity: 2 },
        ],
      },
      {
        entityId: 'market_basket',
        sectionId: 'edible_stock',
        date: '2015-05-29T00:00:00.000000Z',
        entries: [
          { id: 'rice', quantity: 10 },
          { id: 'beans', quantity: 8 },
        ],
      },
      {
        entityId: 'market_basket',
        sectionId: 'cleaning_stock',
        date: '2015-05-29T00:00:00.000000Z',
        entries: [{ id: 'dish_soap', quantity: 100 }],
      },
    ]);
  });

  it('keeps case actions in document order with index, attachment and empty values', async () => {
    const ev = await parseRestoreAll(
      fromString(
        wrap(
          '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c" date_modified="d" user_id="u">' +
            '<update><a> x </a><b/></update><create><case_type>t</case_type><case_name>n</case_name></create>' +
            '<index><parent case_type="p">P1</parent><host case_type="h" relationship="extension">H1</host><gone/></index>' +
            '<attachment><photo src="1.jpg" from="local" name="me.jpg"/><old/></attachment><close/></case>',
        ),
      ),
    );
    expect((ev[0] as Extract<RestoreEvent, { kind: 'case' }>).block.actions).toEqual([
      {
        kind: 'update',
        fields: [
          ['a', 'x'],
          ['b', ''],
        ],
      },
      { kind: 'create', caseType: 't', caseName: 'n' },
      {
        kind: 'index',
        entries: [
          { identifier: 'parent', caseType: 'p', target: 'P1' },
          { identifier: 'host', caseType: 'h', target: 'H1', relationship: 'extension' },
          { identifier: 'gone', caseType: '', target: '' },
        ],
      },
      {
        kind: 'attachment',
        entries: [{ name: 'photo', src: '1.jpg', from: 'local', fileName: 'me.jpg' }, { name: 'old' }],
      },
      { kind: 'close' },
    ]);
  });

  it('enforces the Registration element order (core: UserXmlParser.java)', async () => {
    const ok = await parseRestoreAll(
      fromString(
        wrap(
          '<Registration xmlns="http://openrosa.org/user/registration"><username>u</username><password>p</password><uuid>id</uuid><date>2020-01-01</date>' +
            '<registering_phone_id>x</registering_phone_id><user_data><data key="b">2</data><data key="a"/></user_data></Registration>',
        ),
      ),
    );
    expect(ok[0]).toEqual({
      kind: 'registration',
      registration: {
        username: 'u',
        passwordHash: 'p',
        uuid: 'id',
        date: '2020-01-01',
        userData: { b: '2', a: '' },
      },
    });
    await expectXmlError(
      fromString(wrap('<Registration><uuid>id</uuid><username>u</username><date>d</date></Registration>')),
      'xml-invalid',
      /username/,
    );
    await expectXmlError(
      fromString(
        wrap('<Registration><username>u</username><uuid>id</uuid><date>d</date><extra/></Registration>'),
      ),
      'xml-invalid',
      /extra/,
    );
  });

  it('rejects a case block without case_id and a create with unexpected children', async () => {
    const e = await expectXmlError(
      fromString(readSample('commcare-core/case_parse/case_create_broken_no_caseid.xml')),
      'case-invalid',
      /case_id/,
    );
    expect(e.line).toBeGreaterThan(1);
    expect(e.path).toMatch(/case\[\d+\]/);
    await expectXmlError(
      fromString(
        wrap(
          '<case case_id="c" date_modified="2026-01-01T00:00:00Z"><create><case_type>t</case_type><case_name>n</case_name><bogus/></create></case>',
        ),
      ),
      'case-invalid',
      /bogus/,
    );
  });

  it('rejects a 202 progress body as a restore (its Sync has no restore_id)', async () => {
    await expectXmlError(
      fromString(readSample('commcare-android/async_restore_response.xml')),
      'xml-invalid',
      /restore_id/,
    );
  });
});

describe('parseRestore on hostile input', () => {
  const quick = async (body: RestoreBody, code: string) => {
    const t0 = performance.now();
    const e = await expectXmlError(body, code);
    expect(performance.now() - t0).toBeLessThan(1000);
    return e;
  };

  it('skips text before the root element; the root after it still decides', async () => {
    // Text before the root is skipped (as the phone's kxml does); what follows still counts.
    const e = await quick(fromString('oops <html/>'), 'xml-invalid');
    expect(e.message).toMatch(/root element is <OpenRosaResponse>/);
  });

  it('refuses any DOCTYPE: billion laughs and external entities', async () => {
    let lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">';
    for (let i = 1; i < 10; i++) lol += `<!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`;
    lol += ']><OpenRosaResponse>&lol9;</OpenRosaResponse>';
    const e = await quick(fromString(lol), 'xml-malformed');
    expect(e.message).toMatch(/DOCTYPE/);
    await quick(
      fromString(
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><OpenRosaResponse>&x;</OpenRosaResponse>',
      ),
      'xml-malformed',
    );
    // An undeclared entity is an error, never a lookup.
    await quick(fromString('<OpenRosaResponse><message>&x;</message></OpenRosaResponse>'), 'xml-malformed');
  });

  it('stops a 10 MB attribute with a typed error, without reading past the cap', async () => {
    let pulled = 0;
    async function* huge(): AsyncGenerator<Uint8Array> {
      yield enc.encode('<OpenRosaResponse><case case_id="');
      const chunk = enc.encode('a'.repeat(64 * 1024));
      for (let i = 0; i < 160; i++) {
        pulled++;
        yield chunk;
      }
      yield enc.encode('"/></OpenRosaResponse>');
    }
    const e = await quick(huge(), 'xml-malformed');
    expect(e.message).toMatch(/longer than/);
    // The default cap is 4 MiB: parsing stops after ~64 chunks of 64 KB, not 160.
    expect(pulled).toBeLessThanOrEqual(66);
    pulled = 0;
    await expect(parseRestoreAll(huge(), { maxTokenChars: 256 * 1024 })).rejects.toBeInstanceOf(XmlError);
    expect(pulled).toBeLessThanOrEqual(6);
  });

  it('rejects invalid UTF-8, including a sequence cut off at the end', async () => {
    const bad = new Uint8Array([
      ...enc.encode('<OpenRosaResponse><message>'),
      0xc3,
      0x28,
      ...enc.encode('</message></OpenRosaResponse>'),
    ]);
    const e = await quick(cutStream(bad), 'xml-malformed');
    expect(e.message).toMatch(/UTF-8/);
    const cut = new Uint8Array([...enc.encode('<OpenRosaResponse/>'), 0xe2, 0x82]);
    await quick(cutStream(cut), 'xml-malformed');
  });

  it('rejects truncated payloads at every cut point of a real sample', async () => {
    const bytes = enc.encode(readSample('commcare-core/case_create_basic.xml'));
    for (let len = 0; len < bytes.length; len += 37) {
      await quick(cutStream(bytes.slice(0, len)), 'xml-malformed');
    }
  });

  it('rejects a root that is not OpenRosaResponse and nesting beyond the depth cap', async () => {
    await quick(fromString('<html><body/></html>'), 'xml-invalid');
    await quick(
      fromString(`<OpenRosaResponse>${'<a>'.repeat(500)}${'</a>'.repeat(500)}</OpenRosaResponse>`),
      'xml-malformed',
    );
  });

  it('turns an aborted signal into a typed aborted error', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(parseRestoreAll(fromString(wrap('')), { signal: ac.signal })).rejects.toSatisfy(
      (e: unknown) => isFieldsimError(e) && e.code === 'aborted',
    );
  });
});
