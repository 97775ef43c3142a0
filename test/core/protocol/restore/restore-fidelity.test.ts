import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { XmlError } from '../../../../src/core/errors/xml-error.ts';
import { fromString, parseRestoreAll } from '../../../../src/core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../../../../src/core/protocol/restore/restore-types.ts';
import { CaseDb } from '../../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../../src/core/store/restore-ingest.ts';

/** Small restores for the phone-parser rules of issue 14 part 8 (core: CaseXmlParser, FixtureIndexSchema, kxml). */
const DM = 'date_modified="2026-01-01T00:00:00.000000Z"';
const wrap = (inner: string) =>
  `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><Sync xmlns="http://commcarehq.org/sync"><restore_id>r1</restore_id></Sync>${inner}</OpenRosaResponse>`;
const CASE = `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="p1" ${DM} user_id="u"><create><case_type>household</case_type><case_name>P</case_name><owner_id>u</owner_id></create></case>`;

async function events(xml: string): Promise<RestoreEvent[]> {
  return (await parseRestoreAll(fromString(xml))) as RestoreEvent[];
}

async function error(xml: string): Promise<XmlError> {
  try {
    await parseRestoreAll(fromString(xml));
  } catch (e) {
    expect(e).toBeInstanceOf(XmlError);
    return e as XmlError;
  }
  throw new Error('expected an XmlError');
}

const dbs: FieldsimDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});
function freshDb(): FieldsimDb {
  const db = new FieldsimDb(`fidelity-${dbs.length}-${Date.now()}`, {
    indexedDB: new IDBFactory(),
    IDBKeyRange,
  });
  dbs.push(db);
  return db;
}

describe('restore reader fidelity with the phone', () => {
  it('splits a composite fixture index name,unit into single indexes (FixtureIndexSchema.getSingleIndices)', async () => {
    const xml = wrap(
      '<schema id="item-list:products"><indices><index>name</index><index>name,unit</index><index>@id</index></indices></schema>',
    );
    const schema = (await events(xml)).find((e) => e.kind === 'schema');
    expect(schema).toEqual({
      kind: 'schema',
      schema: { id: 'item-list:products', indices: ['name', 'unit', '@id'] },
    });
    const bad = await error(wrap('<schema id="x"><indices><index>name,</index></indices></schema>'));
    expect(bad.code).toBe('fixture-invalid');
    expect(bad.message).toMatch(/"name,"/);
    expect((await error(wrap('<schema id="x"><indices><index>a,b c</index></indices></schema>'))).code).toBe(
      'fixture-invalid',
    );
  });

  it('requires date_modified on <case> with a typed error', async () => {
    const e = await error(wrap(CASE.replace(DM, '')));
    expect(e.code).toBe('case-invalid');
    expect(e.message).toMatch(/p1.*date_modified/);
    expect((await error(wrap(CASE.replace(DM, 'date_modified=" "')))).code).toBe('case-invalid');
  });

  it('reads action element names case-insensitively', async () => {
    const xml = wrap(
      `<case case_id="c1" ${DM}><CREATE><case_type>t</case_type><case_name>n</case_name><owner_id>u</owner_id></CREATE><Update><colour>red</colour></Update><Close/></case>`,
    );
    const c = (await events(xml)).find((e) => e.kind === 'case');
    expect(c?.kind === 'case' && c.block.actions.map((a) => a.kind)).toEqual(['create', 'update', 'close']);
  });

  it('stores any non-empty index relationship as given; empty is refused', async () => {
    const db = freshDb();
    const child = `<case case_id="c2" ${DM}><create><case_type>member</case_type><case_name>C</case_name><owner_id>u</owner_id></create><index><guardian case_type="household" relationship="question">p1</guardian><parent case_type="household">p1</parent></index></case>`;
    await ingestRestore(db, fromString(wrap(CASE + child)), { mode: 'full' });
    const stored = await new CaseDb(db).get('c2');
    expect(stored?.indices).toEqual([
      { identifier: 'guardian', caseType: 'household', caseId: 'p1', relationship: 'question' },
      { identifier: 'parent', caseType: 'household', caseId: 'p1', relationship: 'child' },
    ]);
    const empty = child.replace('relationship="question"', 'relationship=""');
    const e = await ingestRestore(freshDb(), fromString(wrap(CASE + empty)), { mode: 'full' }).catch(
      (x: unknown) => x,
    );
    expect((e as XmlError).code).toBe('case-invalid');
  });

  it('accepts a browser-saved file: text (and an XML declaration) before the root is skipped, a DOCTYPE still refused', async () => {
    const saved = `This XML file does not appear to have any style information associated with it. The document tree is shown below.\n<?xml version="1.0" encoding="UTF-8"?>\n${wrap(CASE)}`;
    const evs = await events(saved);
    expect(evs.some((e) => e.kind === 'case')).toBe(true);
    // Split across chunks, byte by byte at the boundary.
    const enc = new TextEncoder();
    const bytes = enc.encode(saved);
    const cut = saved.indexOf('<OpenRosaResponse') + 1;
    const chunks = (async function* () {
      yield bytes.slice(0, cut);
      yield bytes.slice(cut);
    })();
    expect(((await parseRestoreAll(chunks)) as RestoreEvent[]).length).toBe(evs.length);
    const doctype = await error(`saved page <!DOCTYPE x [<!ENTITY a "b">]>${wrap('')}`);
    expect(doctype.message).toMatch(/DOCTYPE/);
  });
});
