import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { isFieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import { parseOpenRosaResponse } from '../../../src/core/protocol/openrosa-response.ts';
import { fromString } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb, type FixtureRow, type StoredFixture } from '../../../src/core/store/fieldsim-db.ts';
import { getFixture, getFixtureRows, listFixtureIds } from '../../../src/core/store/fixtures.ts';
import { countLedgerEntries, getLedger } from '../../../src/core/store/ledgers.ts';
import { type IngestResult, ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { getOwnerIds, getRegistration, getSyncToken } from '../../../src/core/store/sync-state.ts';
import { readSample } from '../../contract/samples.ts';

/**
 * Every payload in ../shared/samples/{commcare-core,commcare-android,formplayer} against
 * what its own repository's tests assert (see ../shared/samples/README.md).
 */

const open: FieldsimDb[] = [];
let n = 0;
function freshDb(): FieldsimDb {
  const db = new FieldsimDb(`samples-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange });
  open.push(db);
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

async function load(
  db: FieldsimDb,
  file: string,
  mode: 'full' | 'incremental' = 'full',
  purge = true,
): Promise<IngestResult> {
  return ingestRestore(db, fromString(readSample(file)), { mode, purge });
}

async function rejected(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isFieldsimError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the payload to be rejected');
}

/** The phone's casedb rendering (`*_output.xml`) as plain fields to compare with. */
function expectedCaseDb(file: string): Record<string, string>[] {
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    isArray: (n) => n === 'case',
  }).parse(readSample(file)) as { casedb: { case: Record<string, unknown>[] } };
  return parsed.casedb.case.map((c) => {
    const out: Record<string, string> = {};
    // `<index/>` and `<attachment/>` are empty in these files (no indices, no attachments);
    // `userid` is the phone's internal owner copy, which fieldsim does not model.
    for (const [k, v] of Object.entries(c))
      if (typeof v === 'string' && !['index', 'attachment', 'userid'].includes(k)) out[k] = v;
    return out;
  });
}

function render(
  c: import('../../../src/core/protocol/casexml/case-types.ts').CaseRecord,
): Record<string, string> {
  return {
    '@case_id': c.caseId,
    '@case_type': c.caseType,
    '@status': c.closed ? 'closed' : 'open',
    '@owner_id': c.ownerId,
    case_name: c.caseName,
    date_opened: c.dateOpened,
    last_modified: c.lastModified.slice(0, 10),
    ...c.properties,
  };
}

describe('commcare-core samples', () => {
  it('case_create_basic.xml: token, user, group owner, one case equal to case_create_basic_output.xml', async () => {
    const db = freshDb();
    const r = await load(db, 'commcare-core/case_create_basic.xml');
    expect(r.syncToken).toBe('sync_token_a');
    expect((await getRegistration(db))?.uuid).toBe('test_example');
    expect(await getOwnerIds(db)).toEqual(['test_example', 'test_group']);
    const cases = (await new CaseDb(db).query({})).cases;
    expect(cases.map((c) => c.caseName)).toEqual(['case']);
    // `userid` in the phone's rendering is its internal owner copy; everything else must match.
    expect(cases.map(render)).toEqual(expectedCaseDb('commcare-core/case_create_basic_output.xml'));
    expect(cases[0]?.indices).toEqual([]);
    expect(cases[0]?.attachments).toEqual([]);
  });

  it('case_create_overwrite.xml: a second create overwrites name and owner and keeps properties', async () => {
    const db = freshDb();
    await load(db, 'commcare-core/case_create_overwrite.xml');
    const c = await new CaseDb(db).get('case_one');
    expect(c).toMatchObject({
      caseName: 'case_overwrite',
      ownerId: 'test_group_2',
      properties: { case_property1: 'one', case_property2: 'property_two' },
    });
    expect([render(c as NonNullable<typeof c>)]).toEqual(
      expectedCaseDb('commcare-core/case_create_overwrite_output.xml'),
    );
  });

  it('case_create_purge.xml: the case owned by "remove" is purged, the group case stays', async () => {
    const db = freshDb();
    const r = await load(db, 'commcare-core/case_create_purge.xml');
    expect(r.syncToken).toBe('sync_token_a');
    expect(r.purged).toBe(1);
    expect(await new CaseDb(db).count()).toBe(1);
    expect((await new CaseDb(db).query({})).cases[0]?.ownerId).toBe('test_group');
  });

  it('case_create_external_id.xml: external_id 123 belongs to case "Two"', async () => {
    const db = freshDb();
    await load(db, 'commcare-core/case_create_external_id.xml');
    const all = (await new CaseDb(db).query({})).cases;
    expect(all).toHaveLength(3);
    expect(all.filter((c) => c.externalId === '123').map((c) => c.caseName)).toEqual(['Two']);
  });

  it("create_cases_with_parents.xml: the child's parent index points at parent_node", async () => {
    const db = freshDb();
    await load(db, 'commcare-core/create_cases_with_parents.xml');
    const cdb = new CaseDb(db);
    const child = (await cdb.children('parent_node'))[0];
    expect(child?.indices.find((i) => i.identifier === 'parent')?.caseId).toBe('parent_node');
    expect((await cdb.parents(child?.caseId ?? '')).map((c) => c.caseId)).toEqual(['parent_node']);
  });

  describe('index_disruption: base_transactions.xml then one fragment', () => {
    const base = async () => {
      const db = freshDb();
      await load(db, 'commcare-core/index_disruption/base_transactions.xml');
      const cdb = new CaseDb(db);
      // Forward reference: base_case indexes indexed_case, which comes later in the payload.
      expect((await cdb.get('base_case'))?.indices).toEqual([
        { identifier: 'existing', caseType: 'indexed', caseId: 'indexed_case', relationship: 'child' },
      ]);
      return { db, cdb };
    };
    const frag = (db: FieldsimDb, f: string) =>
      load(db, `commcare-core/index_disruption/${f}`, 'incremental', false);

    it('case_close.xml closes base_case', async () => {
      const { db, cdb } = await base();
      await frag(db, 'case_close.xml');
      expect((await cdb.get('base_case'))?.closed).toBe(true);
    });
    it('case_change_owner.xml changes its owner', async () => {
      const { db, cdb } = await base();
      await frag(db, 'case_change_owner.xml');
      expect((await cdb.get('base_case'))?.ownerId).toBe('new');
    });
    it('case_add_index.xml adds an index', async () => {
      const { db, cdb } = await base();
      await frag(db, 'case_add_index.xml');
      expect((await cdb.get('base_case'))?.indices.map((i) => [i.identifier, i.caseId])).toEqual([
        ['existing', 'indexed_case'],
        ['new_index', 'new'],
      ]);
    });
    it('case_change_index.xml retargets the existing index', async () => {
      const { db, cdb } = await base();
      await frag(db, 'case_change_index.xml');
      expect((await cdb.get('base_case'))?.indices).toEqual([
        { identifier: 'existing', caseType: 'new', caseId: 'new_index', relationship: 'child' },
      ]);
    });
    it('case_remove_index.xml (empty index text) removes it', async () => {
      const { db, cdb } = await base();
      await frag(db, 'case_remove_index.xml');
      expect((await cdb.get('base_case'))?.indices).toEqual([]);
    });
    it('case_update_clean.xml changes neither index nor owner', async () => {
      const { db, cdb } = await base();
      const before = await cdb.get('base_case');
      await frag(db, 'case_update_clean.xml');
      const after = await cdb.get('base_case');
      expect(after?.indices).toEqual(before?.indices);
      expect(after?.ownerId).toBe(before?.ownerId);
      expect(after?.properties['non-indexed']).toBe('value');
      expect((await cdb.get('new_case'))?.properties.key).toBe('value');
    });
  });

  describe('case_parse: each file is rejected and leaves zero cases', () => {
    it.each([
      ['broken_self_index.xml', 'case-invalid', /itself/],
      ['case_create_broken_no_caseid.xml', 'case-invalid', /case_id/],
      ['case_create_broken_length.xml', 'case-invalid', /case_id|255/],
      ['empty_relationship.xml', 'case-invalid', /relationship/],
      ['no_name.xml', 'case-invalid', /case_name/],
    ])('%s', async (file, code, msg) => {
      const db = freshDb();
      const e = await rejected(load(db, `commcare-core/case_parse/${file}`));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
      expect(await new CaseDb(db).count()).toBe(0);
      expect(await getSyncToken(db)).toBeNull();
    });

    it('the over-long name is itself an error once the case id is valid', async () => {
      const db = freshDb();
      const xml = readSample('commcare-core/case_parse/case_create_broken_length.xml').replace(
        'case_id=""',
        'case_id="long"',
      );
      const e = await rejected(ingestRestore(db, fromString(xml), { mode: 'full' }));
      expect(e).toMatchObject({ code: 'case-invalid' });
      expect(e.message).toMatch(/case_name.*255/);
    });
  });

  describe('case_purge', () => {
    const ids = async (db: FieldsimDb) => (await new CaseDb(db).ids()).sort();
    it('simple_extension_test.xml: nothing purged', async () => {
      const db = freshDb();
      const r = await load(db, 'commcare-core/case_purge/simple_extension_test.xml');
      expect(r.purged).toBe(0);
      expect(r.cases).toBe(3);
    });
    it('validate_case_graph_test_simple.xml: only case_three goes', async () => {
      const db = freshDb();
      await load(db, 'commcare-core/case_purge/validate_case_graph_test_simple.xml');
      expect(await ids(db)).toEqual(['case_one', 'case_two']);
    });
    it('validate_case_graph_test_complex.xml: case_three to case_seven go', async () => {
      const db = freshDb();
      await load(db, 'commcare-core/case_purge/validate_case_graph_test_complex.xml');
      expect(await ids(db)).toEqual(['case_one', 'case_two']);
    });
    it('validate_case_graph_test_multiple_parents.xml: case_one and case_four go', async () => {
      const db = freshDb();
      await load(db, 'commcare-core/case_purge/validate_case_graph_test_multiple_parents.xml');
      expect(await ids(db)).toEqual(['case_three', 'case_two']);
    });
    it('validate_case_graph_test_no_change.xml: nothing removed', async () => {
      const db = freshDb();
      const r = await load(db, 'commcare-core/case_purge/validate_case_graph_test_no_change.xml');
      expect(r.purged).toBe(0);
      expect(r.cases).toBe(4);
    });
    it('cyclic_case_relationship_test.xml: an invalid case graph error; without purge it loads', async () => {
      const db = freshDb();
      expect(
        (await rejected(load(db, 'commcare-core/case_purge/cyclic_case_relationship_test.xml'))).code,
      ).toBe('invalid-case-graph');
      expect(await new CaseDb(db).count()).toBe(0);
      const r = await load(db, 'commcare-core/case_purge/cyclic_case_relationship_test.xml', 'full', false);
      expect(r.cases).toBe(3);
    });
  });

  it('case_relationship_tests.json is exercised in test/core/protocol/casexml/case-purge.test.ts (46 scenarios)', () => {
    expect(JSON.parse(readSample('commcare-core/case_relationship_tests.json'))).toHaveLength(46);
  });

  describe('indexed fixtures', () => {
    const PRODUCTS = 'commtrack:products';
    it('indexed-fixture.xml, then -delete, then -empty: 4, 3, 0 rows; the deleted product reads as empty', async () => {
      const db = freshDb();
      await load(db, 'commcare-core/indexed_fixture/indexed-fixture.xml');
      expect(await getFixtureRows(db, PRODUCTS)).toHaveLength(4);
      expect(
        (await getFixtureRows(db, PRODUCTS, { '@id': 'f895be4959f9a8a66f57c340aac461b4' }))[0]?.children[0]
          ?.text,
      ).toBe('Collier');
      await load(db, 'commcare-core/indexed_fixture/indexed-fixture-delete.xml', 'incremental');
      expect(await getFixtureRows(db, PRODUCTS)).toHaveLength(3);
      expect(await getFixtureRows(db, PRODUCTS, { '@id': 'f895be4959f9a8a66f57c340aac461b4' })).toEqual([]);
      await load(db, 'commcare-core/indexed_fixture/indexed-fixture-empty.xml', 'incremental');
      expect(await getFixtureRows(db, PRODUCTS)).toHaveLength(0);
      expect(await listFixtureIds(db)).toEqual([PRODUCTS]);
    });
    it('indexed-fixture-with-keys.xml: schema before the fixture gives keyed rows', async () => {
      const db = freshDb();
      await load(db, 'commcare-core/indexed-fixture-with-keys.xml');
      // A plain database: its rows are FixtureRow as written.
      const rows = (await db.fixtureRows.where('fixtureId').equals(PRODUCTS).toArray()) as FixtureRow[];
      expect(rows).toHaveLength(4);
      expect(rows.every((r) => typeof r.keys['@id'] === 'string' && r.keys['@id'].length === 32)).toBe(true);
      expect((await getFixture(db, PRODUCTS))?.root.children).toHaveLength(4);
    });
    it('schema-after-indexed-fixture.xml is an error', async () => {
      const e = await rejected(load(freshDb(), 'commcare-core/schema-after-indexed-fixture.xml'));
      expect(e.code).toBe('fixture-invalid');
      expect(e.message).toMatch(/after/);
    });
    it('malicious-indexed-fixture.xml (SQL in index names) is an error', async () => {
      const db = freshDb();
      const e = await rejected(load(db, 'commcare-core/malicious-indexed-fixture.xml'));
      expect(e.code).toBe('fixture-invalid');
      expect(await listFixtureIds(db)).toEqual([]);
    });
    it('large_body.xml and partial_lookup bodies load and filter on their schema indices', async () => {
      const db = freshDb();
      await load(db, 'commcare-core/indexed_fixture/large_body.xml');
      expect(await getFixtureRows(db, 'testfixture')).toHaveLength(120);
      expect(await getFixtureRows(db, 'testfixture', { '@type': 'b' })).toHaveLength(40);
      await load(db, 'commcare-core/indexed_fixture/partial_lookup_load_body.xml', 'incremental');
      const hit = await getFixtureRows(db, 'testfixture', {
        '@filter_attribute': 'pass',
        filter_one: 'pass',
      });
      expect(hit.map((r) => r.children.find((c) => c.name === 'name')?.text)).toEqual(['succeed']);
      await load(db, 'commcare-core/indexed_fixture/partial_lookup_load_body_large_scope.xml', 'incremental');
      expect(await getFixtureRows(db, 'testfixture')).toHaveLength(95);
      expect(
        await getFixtureRows(db, 'testfixture', { '@filter_attribute': 'pass', filter_one: 'pass' }),
      ).toHaveLength(1);
    });
  });

  it('ledger_create_basic.xml: three balances, five entries', async () => {
    const db = freshDb();
    const r = await load(db, 'commcare-core/ledger_create_basic.xml');
    expect(r.ledgers).toBe(5);
    expect((await getLedger(db, 'market_basket')).map((l) => [l.sectionId, l.entryId, l.quantity])).toEqual([
      ['cleaning_stock', 'dish_soap', 100],
      ['edible_stock', 'beans', 8],
      ['edible_stock', 'rice', 10],
    ]);
    expect(await getLedger(db, 'ocean_state_job_lot')).toEqual([
      { sectionId: 'cleaning_stock', entryId: 'bleach', quantity: 2, date: '2015-05-29T00:00:00.000000Z' },
      { sectionId: 'cleaning_stock', entryId: 'soap', quantity: 9, date: '2015-05-29T00:00:00.000000Z' },
    ]);
    expect(await countLedgerEntries(db)).toBe(5);
  });

  it('ipm_restore.xml: products, programs, locations fixtures and 6 cases', async () => {
    const db = freshDb();
    const r = await load(db, 'commcare-core/ipm_restore.xml');
    expect(r.cases).toBe(6);
    expect(await listFixtureIds(db)).toEqual([
      'commtrack:locations',
      'commtrack:products',
      'commtrack:programs',
      'user-groups',
    ]);
    expect(r.ledgers).toBeGreaterThan(0);
  });

  it('case_query_testing.xml: cases queryable by name prefix and property', async () => {
    const db = freshDb();
    await load(db, 'commcare-core/case_query_testing.xml');
    const cdb = new CaseDb(db);
    expect((await cdb.query({ namePrefix: 'case name' })).cases.map((c) => c.caseId)).toEqual(['case_three']);
    expect((await cdb.query({ property: { name: 'current_status', value: 'c' } })).total).toBe(2);
    expect((await cdb.query({ property: { name: 'state', value: 'a' } })).cases.map((c) => c.caseId)).toEqual(
      ['case_two'],
    );
  });
});

describe('commcare-android samples', () => {
  const android = (f: string) => `commcare-android/${f}`;
  it('case_create.xml then case_update.xml: "Test Case", test_value initial -> changed', async () => {
    const db = freshDb();
    await load(db, android('case_create.xml'), 'full', false);
    const cdb = new CaseDb(db);
    expect(await cdb.get('test_case_id')).toMatchObject({
      caseName: 'Test Case',
      properties: { test_value: 'initial' },
    });
    await load(db, android('case_update.xml'), 'incremental', false);
    expect((await cdb.get('test_case_id'))?.properties.test_value).toBe('changed');
  });
  it('case_change_type.xml: <update><case_type> changes the type', async () => {
    const db = freshDb();
    await load(db, android('case_create.xml'), 'full', false);
    await load(db, android('case_change_type.xml'), 'incremental', false);
    expect((await new CaseDb(db).get('test_case_id'))?.caseType).toBe('changed_unit_test');
  });
  it('case_create_and_index.xml indexes test_case_id; case_break_index.xml empties the index', async () => {
    const db = freshDb();
    await load(db, android('case_create.xml'), 'full', false);
    await load(db, android('case_create_and_index.xml'), 'incremental', false);
    const cdb = new CaseDb(db);
    expect((await cdb.get('test_case_id_child'))?.indices[0]?.caseId).toBe('test_case_id');
    await load(db, android('case_break_index.xml'), 'incremental', false);
    expect((await cdb.get('test_case_id_child'))?.indices).toHaveLength(0);
    expect((await new CaseDb(db).stats()).indices).toBe(1);
  });
  it('case_create_for_cyclic_case_purge.xml: a later form closing the loop is reported, not silently purged', async () => {
    const db = freshDb();
    await load(db, android('case_create_for_cyclic_case_purge.xml'));
    const cdb = new CaseDb(db);
    expect(await cdb.count()).toBe(3);
    // artist becomes an extension of song: song -> album -> artist -> song.
    const form = `<OpenRosaResponse><case xmlns="http://commcarehq.org/case/transaction/v2" case_id="a834a0a0-59f9-4b59-9d30-492fe0140fda" date_modified="2021-06-26T00:00:00Z" user_id="a05fb80ceb35444798f031011320cfef"><index><song case_type="song" relationship="extension">fe9adf5c-7661-4f8e-a48e-4059fcf1f9dd</song></index></case></OpenRosaResponse>`;
    const e = await rejected(ingestRestore(db, fromString(form), { mode: 'incremental' }));
    expect(e.code).toBe('invalid-case-graph');
    expect(await cdb.count()).toBe(3);
    expect((await cdb.get('a834a0a0-59f9-4b59-9d30-492fe0140fda'))?.indices).toEqual([]);
  });
  it('odk_level_ipm_restore_with_empty_fixture.xml: empty locations fixture not stored and does not wipe an older one', async () => {
    const db = freshDb();
    await ingestRestore(
      db,
      fromString(
        '<OpenRosaResponse><fixture id="commtrack:locations" user_id="a8f5a98c4ce767c35b9132bc75eb225c"><locations><location id="old"/></locations></fixture></OpenRosaResponse>',
      ),
      { mode: 'full' },
    );
    const r = await load(db, android('odk_level_ipm_restore_with_empty_fixture.xml'));
    expect(r.fixtures).not.toContain('commtrack:locations');
    expect(r.fixtures).toContain('commtrack:programs');
    const locs = await getFixture(db, 'commtrack:locations');
    expect(locs?.root.children[0]?.attributes.id).toBe('old');
    expect((await getFixture(db, 'commtrack:programs'))?.root.children.length).toBeGreaterThan(0);
  });
  it('async_restore_response.xml: a 202 body with progress 55/10000, retry-after 2', () => {
    const r = parseOpenRosaResponse(readSample(android('async_restore_response.xml')));
    expect(r.progress).toEqual({ done: 55, total: 10000, retryAfterSeconds: 2 });
    expect(r.nature).toBe('ota_restore_pending');
  });
});

describe('formplayer samples', () => {
  const fp = (f: string) => `formplayer/${f}`;
  it('async_restore_response.xml: done 143, total 23311, retry-after 30', () => {
    const r = parseOpenRosaResponse(readSample(fp('async_restore_response.xml')));
    expect(r.progress).toEqual({ done: 143, total: 23311, retryAfterSeconds: 30 });
  });
  it('indexed.xml: schema + indexed locations, user-groups owners, 17 cases with host indices', async () => {
    const db = freshDb();
    const r = await load(db, fp('indexed.xml'));
    expect(r.cases).toBe(17);
    expect(r.purged).toBe(0);
    expect(await getOwnerIds(db)).toEqual([
      '01525ecc53b21fcff9d93898c934b55f',
      '643bafd5b1a5c485cb865fb4aea78117',
    ]);
    const cdb = new CaseDb(db);
    const st = await cdb.stats();
    expect(st.byType.pregnancy_pp).toBe(5);
    const exts = (await cdb.query({ caseType: 'pregnancy_pp', limit: 10 })).cases;
    expect(
      exts.every((c) => c.ownerId === '-' && c.indices.some((i) => i.relationship === 'extension')),
    ).toBe(true);
    const host = exts[0]?.indices[0]?.caseId ?? '';
    expect((await cdb.children(host, 'extension')).map((c) => c.caseId)).toContain(exts[0]?.caseId);
    const locations = await getFixtureRows(db, 'locations');
    expect(locations.length).toBe(6);
    expect((await getFixture(db, 'locations'))?.indexed).toBe(true);
    const stored = (await db.fixtures.where('id').equals('locations').first()) as StoredFixture | undefined;
    expect(stored?.indices).toContain('@type');
  });
  it('single_case.xml, case_create.xml, case_with_usercase.xml, nocases.xml: small restores', async () => {
    const counts: Record<string, number> = {};
    for (const f of ['single_case.xml', 'case_create.xml', 'case_with_usercase.xml', 'nocases.xml']) {
      const db = freshDb();
      counts[f] = (await load(db, fp(f))).cases;
    }
    expect(counts).toEqual({
      'single_case.xml': 1,
      'case_create.xml': 2,
      'case_with_usercase.xml': 2,
      'nocases.xml': 0,
    });
    const db = freshDb();
    await load(db, fp('case_with_usercase.xml'));
    expect((await new CaseDb(db).query({ caseType: 'commcare-user' })).total).toBe(1);
  });
});
