/**
 * The case-database contract: plain async checks over the store API (store/case-db.ts,
 * store/restore-ingest.ts, store/sync-state.ts, store/fixtures.ts). They use no test
 * framework so the very same functions run under Vitest in Node (fake-indexeddb, see
 * case-db.contract.ts) and inside Chromium against real IndexedDB (test/browser/case-db.test.ts
 * bundles this file). Each check gets a factory for fresh, empty databases.
 */
import { FieldsimError, isFieldsimError } from '../../src/core/errors/fieldsim-error.ts';
import { writeCaseBlock } from '../../src/core/protocol/casexml/case-block-writer.ts';
import type { CaseBlock } from '../../src/core/protocol/casexml/case-types.ts';
import { CaseDb, caseTables } from '../../src/core/store/case-db.ts';
import { readCaseState } from '../../src/core/store/case-writer.ts';
import type { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { getFixtureRows, listFixtureIds } from '../../src/core/store/fixtures.ts';
import { ingestRestore, resetCaseData } from '../../src/core/store/restore-ingest.ts';
import {
  getLastSync,
  getOwnerIds,
  getRegistration,
  getSyncToken,
  setLastSync,
} from '../../src/core/store/sync-state.ts';
import { type RequestEvent, requestSpy } from './request-spy.ts';

export interface CaseDbEnv {
  /** A fresh, empty database. */
  newDb(): FieldsimDb;
  /** The same database opened through a second connection (another tab). */
  reopen(db: FieldsimDb): FieldsimDb;
}

export type CaseDbCheck = (env: CaseDbEnv) => Promise<void>;

class CheckFailed extends Error {}

function eq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new CheckFailed(`${what}: expected ${e}, got ${a}`);
}

function ok(cond: boolean, what: string): void {
  if (!cond) throw new CheckFailed(what);
}

async function rejectsWith(p: Promise<unknown>, code: string, what: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    ok(isFieldsimError(e), `${what}: expected a FieldsimError, got ${String(e)}`);
    eq((e as { code: string }).code, code, `${what}: error code`);
    return e as Error;
  }
  throw new CheckFailed(`${what}: expected a rejection with ${code}`);
}

const DM = '2024-05-01T10:00:00.000000Z';

function create(
  id: string,
  type: string,
  name: string,
  owner: string,
  extra: Partial<CaseBlock> = {},
): CaseBlock {
  return {
    caseId: id,
    dateModified: DM,
    userId: 'user1',
    actions: [{ kind: 'create', caseType: type, caseName: name, ownerId: owner }],
    ...extra,
  };
}

function withIndex(b: CaseBlock, target: string, relationship: 'child' | 'extension' = 'child'): CaseBlock {
  return {
    ...b,
    actions: [
      ...b.actions,
      {
        kind: 'index',
        entries: [
          { identifier: relationship === 'child' ? 'parent' : 'host', caseType: 't', target, relationship },
        ],
      },
    ],
  };
}

/** A restore payload as HQ lays it out (PROTOCOL.md 3.7). */
export function restoreXml(opts: {
  token: string;
  userId?: string;
  groups?: string[];
  blocks: CaseBlock[];
  extra?: string;
}): string {
  const user = opts.userId ?? 'user1';
  let s = '<OpenRosaResponse xmlns="http://openrosa.org/http/response">';
  s += '<message nature="ota_restore_success">Successfully restored account worker!</message>';
  s += `<Sync xmlns="http://commcarehq.org/sync"><restore_id>${opts.token}</restore_id></Sync>`;
  s += `<Registration xmlns="http://openrosa.org/user/registration"><username>worker</username><password>x</password><uuid>${user}</uuid><date>2024-01-01</date><user_data><data key="k">v</data></user_data></Registration>`;
  if (opts.groups !== undefined) {
    s += `<fixture id="user-groups" user_id="${user}"><groups>`;
    for (const g of opts.groups) s += `<group id="${g}"><name>${g}</name></group>`;
    s += '</groups></fixture>';
  }
  s += opts.extra ?? '';
  // HQ writes date_modified on every case block of a restore, and the reader requires it.
  for (const b of opts.blocks)
    s += writeCaseBlock(b.dateModified === undefined ? { ...b, dateModified: DM } : b);
  return `${s}</OpenRosaResponse>`;
}

function bytesStream(text: string, failAt?: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let pos = 0;
  return new ReadableStream({
    pull(ctrl) {
      const end = Math.min(bytes.length, pos + 997);
      if (failAt !== undefined && end >= failAt) {
        if (failAt > pos) ctrl.enqueue(bytes.slice(pos, failAt));
        pos = failAt;
        ctrl.error(new TypeError('connection reset'));
        return;
      }
      if (pos >= bytes.length) {
        ctrl.close();
        return;
      }
      ctrl.enqueue(bytes.slice(pos, end));
      pos = end;
    },
  });
}

async function snapshot(db: FieldsimDb): Promise<string> {
  const cdb = new CaseDb(db);
  const page = await cdb.query({ limit: 100000 });
  return JSON.stringify({
    cases: page.cases,
    hash: await cdb.caseStateHash(),
    token: await getSyncToken(db),
    fixtures: await listFixtureIds(db),
    reg: await getRegistration(db),
  });
}

function household(i: number): CaseBlock {
  return create(
    `h${i}`,
    'household',
    `House ${String(i).padStart(3, '0')}`,
    i % 2 === 0 ? 'user1' : 'group1',
    {
      actions: [
        {
          kind: 'create',
          caseType: 'household',
          caseName: `House ${String(i).padStart(3, '0')}`,
          ownerId: i % 2 === 0 ? 'user1' : 'group1',
        },
        { kind: 'update', fields: [['village', i % 3 === 0 ? 'north' : 'south']] },
      ],
    },
  );
}

export const caseDbChecks: Record<string, CaseDbCheck> = {
  async 'applies create, update, close and index and reads them back'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    eq(await cdb.count(), 0, 'empty count');
    eq(await cdb.get('nope'), undefined, 'unknown case');
    await cdb.applyBlocks([
      create('p1', 'household', 'Home', 'user1'),
      withIndex(create('c1', 'member', 'Ann', 'user1'), 'p1'),
      {
        caseId: 'c1',
        dateModified: '2024-05-02T00:00:00Z',
        userId: 'u9',
        actions: [
          {
            kind: 'update',
            fields: [
              ['age', '7'],
              ['case_name', 'Anna'],
            ],
          },
        ],
      },
    ]);
    const c1 = await cdb.get('c1');
    eq(c1?.caseName, 'Anna', 'updated name');
    eq(c1?.properties, { age: '7' }, 'properties');
    eq(
      c1?.indices,
      [{ identifier: 'parent', caseType: 't', caseId: 'p1', relationship: 'child' }],
      'indices',
    );
    eq(c1?.lastModified, '2024-05-02T00:00:00Z', 'last modified');
    eq(c1?.userId, 'u9', 'last modifier');
    eq(c1?.dateOpened, '2024-05-01', 'date opened');
    await cdb.applyBlocks([{ caseId: 'p1', actions: [{ kind: 'close' }] }]);
    eq((await cdb.get('p1'))?.closed, true, 'closed');
    eq(await cdb.count(), 2, 'count');
    db.close();
  },

  async 'applyBlocks is all-or-nothing and names the failing case'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    await cdb.applyBlocks([create('a', 't', 'A', 'user1')]);
    const before = await snapshot(db);
    const err = await rejectsWith(
      cdb.applyBlocks([
        create('b', 't', 'B', 'user1'),
        { caseId: 'a', actions: [{ kind: 'update', fields: [['x', '1']] }] },
        { caseId: 'ghost', actions: [{ kind: 'close' }] },
      ]),
      'case-not-found',
      'update of unknown case',
    );
    ok(err.message.includes('ghost'), 'message names the case');
    await rejectsWith(
      cdb.applyBlocks([withIndex(create('self', 't', 'S', 'user1'), 'self')]),
      'case-invalid',
      'self index',
    );
    eq(await snapshot(db), before, 'nothing applied');
    db.close();
  },

  async 'joins an outer transaction with the outbox: both commit or neither'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    const outbox = db.table('outbox');
    try {
      await db.transaction('rw', [outbox, ...caseTables(db)], async () => {
        await outbox.add({ instanceId: 'i1', state: 'queued' });
        await cdb.applyBlocks([create('x1', 't', 'X', 'user1')]);
        throw new Error('form save failed');
      });
    } catch (e) {
      eq((e as Error).message, 'form save failed', 'outer error');
    }
    eq(await outbox.count(), 0, 'no outbox row after abort');
    eq(await cdb.count(), 0, 'no case after abort');
    eq(await cdb.get('x1'), undefined, 'case not visible after abort');
    await db.transaction('rw', [outbox, ...caseTables(db)], async () => {
      await outbox.add({ instanceId: 'i2', state: 'queued' });
      await cdb.applyBlocks([create('x2', 't', 'X2', 'user1')]);
    });
    eq(await outbox.count(), 1, 'outbox row committed');
    eq((await cdb.get('x2'))?.caseName, 'X2', 'case committed');
    // A case error inside the outer transaction aborts the outbox write too.
    await rejectsWith(
      db.transaction('rw', [outbox, ...caseTables(db)], async () => {
        await outbox.add({ instanceId: 'i3', state: 'queued' });
        await cdb.applyBlocks([{ caseId: 'ghost', actions: [{ kind: 'close' }] }]);
      }),
      'case-not-found',
      'case error in outer transaction',
    );
    eq(await outbox.count(), 1, 'outbox unchanged after case error');
    db.close();
  },

  async 'queries by type, owner, status, name prefix and property with sorting and paging'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    const blocks: CaseBlock[] = [];
    for (let i = 0; i < 150; i++) blocks.push(household(i));
    for (let i = 0; i < 40; i++)
      blocks.push(withIndex(create(`m${i}`, 'member', `Member ${i}`, 'user1'), `h${i}`));
    blocks.push({ caseId: 'h1', actions: [{ kind: 'close' }] });
    blocks.push({
      caseId: 'h2',
      dateModified: '2030-01-01T00:00:00Z',
      actions: [{ kind: 'update', fields: [['v', '1']] }],
    });
    await cdb.applyBlocks(blocks);
    eq(await cdb.count(), 190, 'count');
    const all = await cdb.query({ caseType: 'household', limit: 1000 });
    eq(all.total, 150, 'households');
    eq(
      all.cases.slice(0, 3).map((c) => c.caseName),
      ['House 000', 'House 001', 'House 002'],
      'sorted by name',
    );
    const p2 = await cdb.query({ caseType: 'household', offset: 50, limit: 50 });
    eq(p2.total, 150, 'paged total');
    eq(p2.cases.length, 50, 'page size');
    eq(p2.cases[0]?.caseName, 'House 050', 'page 2 starts at 50');
    eq((await cdb.query({ caseType: 'household', offset: 140, limit: 50 })).cases.length, 10, 'last page');
    // A pick from the list in one read: the offset is chosen once the total is known.
    const totals: number[] = [];
    const picked = await cdb.query(
      { caseType: 'household', limit: 1 },
      {
        offsetFrom: (total) => {
          totals.push(total);
          return 77;
        },
      },
    );
    eq(totals.join(), '150', 'offsetFrom is given the total, once');
    eq(picked.total, 150, 'picked total');
    eq(picked.cases[0]?.caseName, 'House 077', 'offsetFrom places the page');
    eq(
      (await cdb.query({ caseType: 'household', status: 'closed' })).cases.map((c) => c.caseId),
      ['h1'],
      'closed',
    );
    eq((await cdb.query({ caseType: 'household', status: 'open' })).total, 149, 'open');
    eq((await cdb.query({ ownerId: 'group1' })).total, 75, 'by owner');
    eq((await cdb.query({ namePrefix: 'member 1', limit: 100 })).total, 11, 'name prefix, case-insensitive');
    const north = await cdb.query({
      caseType: 'household',
      property: { name: 'village', value: 'north' },
      limit: 100,
    });
    eq(north.total, 50, 'by property');
    ok(
      north.cases.every((c) => c.properties.village === 'north'),
      'property matches',
    );
    eq(
      (await cdb.query({ sort: 'lastModified', limit: 1 })).cases[0]?.caseId,
      'h2',
      'most recently modified first',
    );
    // Caches follow writes.
    await cdb.applyBlocks([{ caseId: 'h4', actions: [{ kind: 'update', fields: [['village', 'north']] }] }]);
    eq(
      (await cdb.query({ caseType: 'household', property: { name: 'village', value: 'north' }, limit: 100 }))
        .total,
      51,
      'property query after a write',
    );
    await cdb.applyBlocks([create('h999', 'household', 'AAA first', 'user1')]);
    eq(
      (await cdb.query({ caseType: 'household', limit: 1 })).cases[0]?.caseId,
      'h999',
      'sorted list after a write',
    );
    db.close();
  },

  async 'children, extensions, parents and hosts'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    await cdb.applyBlocks([
      create('p', 'household', 'P', 'user1'),
      withIndex(create('k1', 'member', 'K1', 'user1'), 'p'),
      withIndex(create('k2', 'member', 'K2', 'user1'), 'p'),
      withIndex(create('e1', 'visit', 'E1', 'user1'), 'p', 'extension'),
    ]);
    eq((await cdb.children('p')).map((c) => c.caseId).sort(), ['e1', 'k1', 'k2'], 'all children');
    eq((await cdb.children('p', 'child')).map((c) => c.caseId).sort(), ['k1', 'k2'], 'child only');
    eq(
      (await cdb.children('p', 'extension')).map((c) => c.caseId),
      ['e1'],
      'extensions',
    );
    eq(
      (await cdb.parents('k1')).map((c) => c.caseId),
      ['p'],
      'parent',
    );
    eq(
      (await cdb.parents('e1', 'extension')).map((c) => c.caseId),
      ['p'],
      'host',
    );
    eq(await cdb.parents('p'), [], 'no parents');
    await cdb.applyBlocks([
      {
        caseId: 'k2',
        actions: [{ kind: 'index', entries: [{ identifier: 'parent', caseType: '', target: '' }] }],
      },
    ]);
    eq(
      (await cdb.children('p', 'child')).map((c) => c.caseId),
      ['k1'],
      'removed index',
    );
    db.close();
  },

  async 'case-state hash is the XOR of MD5 of case ids'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    eq(await cdb.caseStateHash(), '', 'empty');
    await cdb.applyBlocks([create('abc123', 't', 'a', 'user1'), create('123abc', 't', 'b', 'user1')]);
    eq(await cdb.caseStateHash(), '409c5c597fa2c2a693b769f0d2ad432b', 'test vector');
    db.close();
  },

  async 'full restore streams into the store, purges, and sets sync state'(env) {
    const db = env.newDb();
    const blocks: CaseBlock[] = [];
    for (let i = 0; i < 120; i++) blocks.push(household(i));
    blocks.push(create('foreign', 't', 'F', 'someone-else'));
    blocks.push(withIndex(create('orphan', 't', 'O', 'user1'), 'missing-case'));
    blocks.push({ caseId: 'h0', actions: [{ kind: 'close' }] });
    const xml = restoreXml({
      token: 'tok1',
      groups: ['group1'],
      blocks,
      extra:
        '<ns0:balance xmlns:ns0="http://commcarehq.org/ledger/v1" entity-id="h2" section-id="stock" date="d"><ns0:entry id="a" quantity="3"/></ns0:balance>',
    });
    const seen: string[] = [];
    const r = await ingestRestore(db, bytesStream(xml), {
      mode: 'full',
      batchSize: 40,
      onProgress: (p) => seen.push(p.phase),
    });
    eq(r.syncToken, 'tok1', 'token');
    eq(r.registration?.uuid, 'user1', 'registration');
    eq(r.cases, 119, 'cases left');
    eq(r.purged, 3, 'purged: the foreign case, the orphan and closed h0');
    eq(r.fixtures, ['user-groups'], 'fixtures');
    eq(r.ledgers, 1, 'ledgers');
    ok(seen.includes('downloading') && seen.at(-1) === 'done', 'progress phases');
    eq(await getSyncToken(db), 'tok1', 'stored token');
    eq(await getOwnerIds(db), ['user1', 'group1'], 'owner ids');
    eq((await getRegistration(db))?.userData, { k: 'v' }, 'user data');
    eq(await getLastSync(db), null, 'no last sync yet');
    await setLastSync(db, 1234);
    eq(await getLastSync(db), 1234, 'last sync');
    const cdb = new CaseDb(db);
    eq(await cdb.count(), 119, 'count');
    eq(await cdb.get('foreign'), undefined, 'foreign purged');
    eq(await cdb.get('orphan'), undefined, 'orphan purged');
    eq((await cdb.get('h5'))?.ownerId, 'group1', 'group-owned case kept');
    db.close();
  },

  async 'a restore cut off at any point leaves the previous database intact'(env) {
    const db = env.newDb();
    const first: CaseBlock[] = [];
    for (let i = 0; i < 60; i++) first.push(household(i));
    await ingestRestore(db, bytesStream(restoreXml({ token: 'old', groups: ['group1'], blocks: first })), {
      mode: 'full',
      batchSize: 16,
    });
    const before = await snapshot(db);
    const second: CaseBlock[] = [];
    for (let i = 0; i < 80; i++) second.push(create(`n${i}`, 'new', `N${i}`, 'user1'));
    const xml = restoreXml({ token: 'new', userId: 'user1', groups: ['g2'], blocks: second });
    const len = new TextEncoder().encode(xml).length;
    for (const cut of [1, 200, 700, Math.floor(len / 3), Math.floor(len / 2), len - 30, len - 1]) {
      await rejectsWith(
        ingestRestore(db, bytesStream(xml, cut), { mode: 'full', batchSize: 16 }),
        'network-error',
        `cut at ${cut}`,
      );
      eq(await snapshot(db), before, `intact after cut at ${cut}`);
      // A second connection (another tab) sees the same.
      const other = env.reopen(db);
      eq(await snapshot(other), before, `intact for another connection after cut at ${cut}`);
      other.close();
    }
    // A payload that breaks the case rules or forms a cycle also leaves it intact.
    await rejectsWith(
      ingestRestore(
        db,
        bytesStream(
          restoreXml({
            token: 'bad',
            blocks: [...second, { caseId: 'ghost', actions: [{ kind: 'close' }] }],
          }),
        ),
        { mode: 'full' },
      ),
      'case-not-found',
      'bad block',
    );
    await rejectsWith(
      ingestRestore(
        db,
        bytesStream(
          restoreXml({
            token: 'cyc',
            blocks: [
              withIndex(create('x', 't', 'x', 'user1'), 'y', 'extension'),
              withIndex(create('y', 't', 'y', 'user1'), 'x', 'extension'),
            ],
          }),
        ),
        { mode: 'full' },
      ),
      'invalid-case-graph',
      'cycle',
    );
    eq(await snapshot(db), before, 'intact after rejected payloads');
    // And the complete payload then switches over.
    await ingestRestore(db, bytesStream(xml), { mode: 'full', batchSize: 16 });
    eq(await new CaseDb(db).count(), 80, 'switched');
    eq(await getSyncToken(db), 'new', 'new token');
    // By generation, not by content: pages of an encrypted database cannot be read raw.
    const live = (await readCaseState(db)).gen;
    eq(await db.casePages.filter((p) => p.gen !== live).count(), 0, 'old generation deleted');
    db.close();
  },

  async 'incremental sync merges, runs the purge with the new owners, and is atomic'(env) {
    const db = env.newDb();
    await ingestRestore(
      db,
      bytesStream(
        restoreXml({
          token: 't1',
          groups: ['group1'],
          blocks: [
            create('keep', 't', 'Keep', 'user1'),
            create('moves', 't', 'Moves', 'user1'),
            create('closes', 't', 'Closes', 'group1'),
            create('grp', 't', 'Group case', 'group1'),
            withIndex(create('kid', 't', 'Kid', 'user1'), 'keep'),
          ],
        }),
      ),
      { mode: 'full' },
    );
    const cdb = new CaseDb(db);
    const hashBefore = await cdb.caseStateHash();
    const inc = `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><Sync xmlns="http://commcarehq.org/sync"><restore_id>t2</restore_id></Sync>${[
      {
        caseId: 'moves',
        dateModified: DM,
        actions: [{ kind: 'update', fields: [['owner_id', 'other-user']] }],
      } as CaseBlock,
      { caseId: 'closes', dateModified: DM, actions: [{ kind: 'close' }] } as CaseBlock,
      create('fresh', 't', 'Fresh', 'user1'),
      {
        caseId: 'keep',
        dateModified: DM,
        actions: [{ kind: 'update', fields: [['p', 'changed']] }],
      } as CaseBlock,
    ]
      .map((b) => writeCaseBlock(b))
      .join('')}</OpenRosaResponse>`;
    const r = await ingestRestore(db, bytesStream(inc), { mode: 'incremental' });
    eq(r.syncToken, 't2', 'token');
    eq(r.purged, 2, 'reassigned and closed cases purged');
    eq((await cdb.ids()).sort(), ['fresh', 'grp', 'keep', 'kid'], 'cases after merge');
    eq((await cdb.get('keep'))?.properties.p, 'changed', 'merged update');
    ok((await cdb.caseStateHash()) !== hashBefore, 'hash changed');
    eq(await getOwnerIds(db), ['user1', 'group1'], 'owners kept when the payload has no user-groups');
    // A broken incremental payload changes nothing, including the token.
    const before = await snapshot(db);
    const bad = inc
      .replace('t2', 't3')
      .replace(
        '</OpenRosaResponse>',
        '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="nobody" date_modified="d"><close/></case></OpenRosaResponse>',
      );
    await rejectsWith(
      ingestRestore(db, bytesStream(bad), { mode: 'incremental' }),
      'case-not-found',
      'bad incremental',
    );
    await rejectsWith(
      ingestRestore(db, bytesStream(inc, 120), { mode: 'incremental' }),
      'network-error',
      'cut incremental',
    );
    eq(await snapshot(db), before, 'unchanged after failed incremental');
    // Losing a group in user-groups purges that group's cases.
    const regroup = restoreXml({ token: 't4', groups: [], blocks: [] });
    const r2 = await ingestRestore(db, bytesStream(regroup), { mode: 'incremental' });
    eq(r2.purged, 1, 'group case purged');
    eq((await cdb.ids()).sort(), ['fresh', 'keep', 'kid'], 'after regroup');
    db.close();
  },

  async '412 reset replaces cases and ledgers, keeps user, fixtures and outbox, reapplies unsent blocks'(
    env,
  ) {
    const db = env.newDb();
    const fixture =
      '<fixture id="item-list:city" user_id="user1"><city_list><city><id>a</id></city></city_list></fixture>' +
      '<ns0:balance xmlns:ns0="http://commcarehq.org/ledger/v1" entity-id="old1" section-id="s" date="d"><ns0:entry id="e" quantity="1"/></ns0:balance>';
    await ingestRestore(
      db,
      bytesStream(
        restoreXml({
          token: 't1',
          groups: ['g'],
          blocks: [create('old1', 't', 'Old', 'user1')],
          extra: fixture,
        }),
      ),
      {
        mode: 'full',
      },
    );
    await db.table('outbox').add({ instanceId: 'unsent', state: 'queued' });
    const fresh = restoreXml({ token: 't2', groups: ['g'], blocks: [create('new1', 't', 'New', 'user1')] });
    const r = await resetCaseData(db, bytesStream(fresh), {
      reapplyBlocks: [
        { caseId: 'new1', actions: [{ kind: 'update', fields: [['from_unsent_form', 'yes']] }] },
        create('local1', 't', 'Local', 'user1'),
      ],
    });
    eq(r.syncToken, 't2', 'token');
    const cdb = new CaseDb(db);
    eq((await cdb.ids()).sort(), ['local1', 'new1'], 'cases replaced, unsent case kept');
    eq((await cdb.get('new1'))?.properties.from_unsent_form, 'yes', 'reapplied update');
    eq(await listFixtureIds(db), ['item-list:city', 'user-groups'], 'fixtures kept');
    eq(await db.table('outbox').count(), 1, 'outbox kept');
    const { gen } = await readCaseState(db);
    eq(await db.ledgers.filter((l) => l.gen === gen).count(), 0, 'ledgers replaced');
    eq(await db.ledgers.count(), 0, 'old ledgers deleted');
    db.close();
  },

  async 'fixtures: plain replaced by (id, user_id), empty ones ignored, indexed ones queryable'(env) {
    const db = env.newDb();
    const fx = (body: string) => restoreXml({ token: 't', blocks: [], extra: body });
    await ingestRestore(
      db,
      bytesStream(
        fx(
          '<fixture id="plain" user_id="user1"><a><b>1</b></a></fixture>' +
            '<schema id="locs"><indices><index>@id</index><index>name</index></indices></schema>' +
            '<fixture id="locs" indexed="true"><locations><location id="L1" type="x"><name>One</name></location><location id="L2" type="y"><name>Two</name></location></locations></fixture>',
        ),
      ),
      { mode: 'full' },
    );
    eq(
      (await getFixtureRows(db, 'locs', { '@id': 'L2' })).map((n) => n.attributes.type),
      ['y'],
      'row by @id',
    );
    eq(
      (await getFixtureRows(db, 'locs', { name: 'One' })).map((n) => n.attributes.id),
      ['L1'],
      'row by child',
    );
    eq((await getFixtureRows(db, 'locs', { '@type': 'x' })).length, 1, 'non-indexed expression evaluated');
    await ingestRestore(
      db,
      bytesStream(
        fx('<fixture id="plain" user_id="user1"/><fixture id="locs" indexed="true"><locations/></fixture>'),
      ),
      { mode: 'incremental' },
    );
    eq(await listFixtureIds(db), ['locs', 'plain'], 'empty plain fixture did not wipe the old one');
    eq((await getFixtureRows(db, 'locs')).length, 0, 'indexed fixture emptied');
    db.close();
  },

  async 'two CaseDb objects and two connections stay consistent'(env) {
    const db = env.newDb();
    const a = new CaseDb(db);
    const b = new CaseDb(db);
    await a.applyBlocks([create('one', 't', 'One', 'user1')]);
    eq((await b.get('one'))?.caseName, 'One', 'same connection');
    const other = env.reopen(db);
    const c = new CaseDb(other);
    eq(await c.count(), 1, 'other connection reads');
    await c.applyBlocks([
      create('two', 't', 'Two', 'user1'),
      { caseId: 'one', actions: [{ kind: 'update', fields: [['x', 'y']] }] },
    ]);
    eq(await a.count(), 2, "first connection sees the second one's write");
    eq((await a.get('one'))?.properties.x, 'y', 'and its update');
    eq(await a.caseStateHash(), await c.caseStateHash(), 'same hash');
    // A third connection rebuilds its catalog from the stored page summaries.
    await a.applyBlocks([
      withIndex(create('kid', 'k', 'Kid', 'user1'), 'one'),
      { caseId: 'two', actions: [{ kind: 'close' }] },
    ]);
    const third = env.reopen(db);
    const d = new CaseDb(third);
    eq(
      (await d.children('one')).map((x) => x.caseId),
      ['kid'],
      'children after reopen',
    );
    eq(
      (await d.query({ status: 'closed' })).cases.map((x) => x.caseId),
      ['two'],
      'status after reopen',
    );
    eq((await d.query({ caseType: 'k' })).total, 1, 'type after reopen');
    eq(await d.caseStateHash(), await a.caseStateHash(), 'hash after reopen');
    third.close();
    other.close();
    db.close();
  },

  async 'the name order follows renames, creates and removals'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    const names = ['delta', 'alpha', 'Charlie', 'bravo', 'alpha', 'echo', '', 'alp', 'zulu', 'Alpha'];
    await cdb.applyBlocks(names.map((n, i) => create(`n${i}`, 't', n, 'user1')));
    const expected = async (): Promise<string[]> => {
      // A second connection rebuilds its catalog and sorts from scratch.
      const other = env.reopen(db);
      const ids = (await new CaseDb(other).query({ limit: 1000 })).cases.map((c) => c.caseId);
      other.close();
      return ids;
    };
    eq(
      (await cdb.query({ limit: 1000 })).cases.map((c) => c.caseName),
      [...names].sort(),
      'initial order',
    );
    let seq = 0;
    for (const step of [
      { caseId: 'n1', actions: [{ kind: 'update', fields: [['case_name', 'omega']] }] },
      { caseId: 'n4', actions: [{ kind: 'update', fields: [['case_name', 'alpha']] }] },
      create('n10', 't', 'beta', 'user1'),
      create('n11', 't', 'alpha', 'user1'),
      { caseId: 'n6', actions: [{ kind: 'update', fields: [['case_name', 'zz']] }] },
      create('n2', 't', 'a', 'user1'),
    ] as CaseBlock[]) {
      await cdb.applyBlocks([step]);
      eq(
        (await cdb.query({ limit: 1000 })).cases.map((c) => c.caseId),
        await expected(),
        `order after step ${++seq}`,
      );
    }
    await ingestRestore(
      db,
      bytesStream(
        `<OpenRosaResponse>${['n0', 'n3', 'n11'].map((id) => writeCaseBlock({ caseId: id, dateModified: DM, actions: [{ kind: 'close' }] })).join('')}</OpenRosaResponse>`,
      ),
      { mode: 'incremental' },
    );
    eq(
      (await cdb.query({ limit: 1000 })).cases.map((c) => c.caseId),
      await expected(),
      'order after purge',
    );
    eq((await cdb.query({ limit: 1000 })).total, 9, 'count after purge');
    db.close();
  },

  async 'many cases across pages: updates and removals land on the right page'(env) {
    const db = env.newDb();
    const cdb = new CaseDb(db);
    const blocks: CaseBlock[] = [];
    for (let i = 0; i < 700; i++) blocks.push(create(`c${i}`, i % 2 ? 'odd' : 'even', `Case ${i}`, 'user1'));
    await cdb.applyBlocks(blocks);
    for (let i = 0; i < 700; i += 97)
      await cdb.applyBlocks([{ caseId: `c${i}`, actions: [{ kind: 'update', fields: [['n', String(i)]] }] }]);
    await cdb.applyBlocks([create('late', 'odd', 'Late', 'user1')]);
    eq(await cdb.count(), 701, 'count');
    eq((await cdb.get('c388'))?.properties.n, '388', 'update on a middle page');
    eq((await cdb.get('c1'))?.properties, {}, 'neighbour untouched');
    eq((await cdb.query({ caseType: 'odd', limit: 1000 })).total, 351, 'type count');
    const r = await ingestRestore(
      db,
      bytesStream(
        `<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>x</restore_id></Sync>${[
          5, 300, 699,
        ]
          .map((i) => writeCaseBlock({ caseId: `c${i}`, dateModified: DM, actions: [{ kind: 'close' }] }))
          .join('')}</OpenRosaResponse>`,
      ),
      { mode: 'incremental' },
    );
    eq(r.purged, 3, 'closed cases purged (no owner list: everything owned)');
    eq(await cdb.count(), 698, 'count after purge');
    eq(await cdb.get('c300'), undefined, 'removed');
    eq((await cdb.get('c301'))?.caseId, 'c301', 'neighbour kept');
    db.close();
  },
  async 'saves from two connections to the same tail page keep every case'(env) {
    // Each connection guesses the pages a save needs from its own catalog; the other
    // connection's appends to the shared tail page must make that guess fall back.
    const db = env.newDb();
    const other = env.reopen(db);
    const a = new CaseDb(db);
    const b = new CaseDb(other);
    await a.applyBlocks([create('seed', 't', 'Seed', 'user1')]);
    eq(await b.count(), 1, 'second connection sees the seed');
    const ids: string[] = ['seed'];
    for (let i = 0; i < 40; i++) {
      const id = `x${i}`;
      ids.push(id);
      await (i % 3 === 0 ? b : a).applyBlocks([create(id, 't', `X ${i}`, 'user1')]);
      if (i % 5 === 0)
        await (i % 2 === 0 ? a : b).applyBlocks([
          { caseId: 'seed', actions: [{ kind: 'update', fields: [['n', String(i)]] }] },
        ]);
    }
    const third = env.reopen(db);
    const c = new CaseDb(third);
    const sorted = [...ids].sort();
    for (const [name, cdb] of [
      ['first', a],
      ['second', b],
      ['third (fresh catalog)', c],
    ] as const) {
      eq((await cdb.ids()).sort(), sorted, `${name} connection: every case`);
      eq((await cdb.get('seed'))?.properties.n, '35', `${name} connection: last update of the seed`);
      eq((await cdb.getMany(ids)).length, ids.length, `${name} connection: every case readable`);
    }
    eq(await a.caseStateHash(), await c.caseStateHash(), 'same hash as a fresh catalog');
    third.close();
    other.close();
    db.close();
  },

  async 'an aborted save leaves the catalog and the next save on the same page intact'(env) {
    // The case writes are queued in the transaction, then a later request fails: the
    // catalog must not take the change, and the next save must not build on it.
    const db = env.newDb();
    const cdb = new CaseDb(db);
    const outbox = db.table('outbox');
    await cdb.applyBlocks([create('keep', 't', 'Keep', 'user1')]);
    await outbox.add({ instanceId: 'taken', state: 'queued' });
    await rejectsWith(
      db
        .transaction('rw', [outbox, ...caseTables(db)], async () => {
          await cdb.applyBlocks([
            create('gone', 't', 'Gone', 'user1'),
            { caseId: 'keep', actions: [{ kind: 'update', fields: [['p', 'lost']] }] },
          ]);
          await outbox.add({ instanceId: 'taken', state: 'queued' });
        })
        .catch((e: unknown) => {
          throw (e as { name?: string }).name === 'ConstraintError'
            ? new FieldsimError('invalid-argument', 'duplicate')
            : e;
        }),
      'invalid-argument',
      'duplicate outbox row',
    );
    eq(await cdb.ids(), ['keep'], 'catalog of this connection');
    eq((await cdb.get('keep'))?.properties, {}, 'update not kept');
    await cdb.applyBlocks([create('next', 't', 'Next', 'user1')]);
    const fresh = env.reopen(db);
    eq((await new CaseDb(fresh).ids()).sort(), ['keep', 'next'], 'a fresh catalog agrees');
    eq((await cdb.ids()).sort(), ['keep', 'next'], 'and so does this one');
    eq((await new CaseDb(fresh).get('next'))?.caseName, 'Next', 'the next save is stored');
    fresh.close();
    db.close();
  },
  async 'saves in a row read their pages once and never rebuild the catalog'(env) {
    // A save joins the outbox's transaction; the pages it needs are guessed from the
    // catalog and read with the state row. The catalog must take each commit before the
    // code awaiting it goes on, or the next save starts stale: it would rebuild the
    // catalog and read its pages a second time (Chromium runs microtasks between the
    // transaction's `complete` listeners, Node's fake IndexedDB does not).
    const db = env.newDb();
    const log: RequestEvent[] = [];
    db.use(requestSpy(log));
    const cdb = new CaseDb(db);
    const outbox = db.table('outbox');
    const houses: CaseBlock[] = [];
    for (let i = 0; i < 40; i++) houses.push(household(i));
    await cdb.applyBlocks(houses);
    for (let i = 0; i < 30; i++) {
      log.length = 0;
      const block: CaseBlock =
        i % 2 === 0
          ? withIndex(create(`m${i}`, 'member', `Member ${i}`, 'user1'), `h${i}`)
          : { caseId: `h${(i * 7) % 40}`, actions: [{ kind: 'update', fields: [['visit', String(i)]] }] };
      await db.transaction('rw', [outbox, ...caseTables(db)], async () => {
        await Promise.all([outbox.add({ instanceId: `f${i}`, state: 'queued' }), cdb.applyBlocks([block])]);
      });
      const issued = log.filter((e) => e.at === 'issue').map((e) => e.op);
      eq(
        issued.filter((o) => o.startsWith('caseSums.') && o !== 'caseSums.put'),
        [],
        `save ${i}: no catalog rebuild`,
      );
      ok(issued.filter((o) => o === 'casePages.getMany').length <= 1, `save ${i}: one page read (${issued})`);
    }
    eq(await cdb.count(), 55, 'houses and members');
    eq((await cdb.get('h21'))?.properties.visit, '3', 'an update landed');
    eq(
      (await cdb.children('h28')).map((c) => c.caseId),
      ['m28'],
      'a member landed with its index',
    );
    db.close();
  },
  async 'optimistic saves from two connections: a stale guess is aborted, retried, nothing lost'(env) {
    // The form save's first attempt writes from the pages its connection holds and lets a
    // raw state read abort the transaction if another connection wrote meanwhile.
    const db = env.newDb();
    const other = env.reopen(db);
    const conns = [
      { db, cdb: new CaseDb(db) },
      { db: other, cdb: new CaseDb(other) },
    ];
    let retries = 0;
    const save = async (n: number, block: CaseBlock): Promise<void> => {
      // Runs of three saves on one connection (its pages held), then the other one's turn.
      const c = conns[Math.floor(n / 3) % 2] as (typeof conns)[number];
      const outbox = c.db.table('outbox');
      const attempt = (probe: { stale: boolean } | undefined) =>
        c.db.transaction('rw', [outbox, ...caseTables(c.db)], async () => {
          await Promise.all([
            outbox.add({ instanceId: `f${n}-${probe ? 'a' : 'b'}`, state: 'queued' }),
            c.cdb.applyBlocks([block], probe ? { optimistic: probe } : {}),
          ]);
        });
      const probe = { stale: false };
      try {
        await attempt(probe);
      } catch (e) {
        if (!probe.stale) throw e;
        retries++;
        await attempt(undefined);
      }
    };
    await conns[0]?.cdb.applyBlocks([create('seed', 't', 'Seed', 'user1')]);
    const ids = ['seed'];
    for (let n = 0; n < 40; n++) {
      if (n % 4 === 3)
        await save(n, { caseId: 'seed', actions: [{ kind: 'update', fields: [['n', String(n)]] }] });
      else {
        ids.push(`k${n}`);
        await save(n, create(`k${n}`, 't', `K ${n}`, 'user1'));
      }
    }
    ok(retries > 0, 'some first attempts were stale');
    const fresh = env.reopen(db);
    for (const [name, cdb] of [
      ['first', conns[0]?.cdb],
      ['second', conns[1]?.cdb],
      ['fresh', new CaseDb(fresh)],
    ] as const) {
      eq((await cdb?.ids())?.sort(), [...ids].sort(), `${name}: every case`);
      eq((await cdb?.get('seed'))?.properties.n, '39', `${name}: the last update`);
    }
    eq(await db.table('outbox').count(), 40, 'one queue row per save');
    fresh.close();
    other.close();
    db.close();
  },
  async 'case lists stay right through saves, whatever the caller does with its query object'(env) {
    // The catalog keeps cached lists up to date through saves with the rule that made
    // them; a caller reusing and changing its query object must not change that rule.
    const db = env.newDb();
    const cdb = new CaseDb(db);
    const blocks: CaseBlock[] = [];
    for (let i = 0; i < 60; i++)
      blocks.push(create(`p${i}`, i % 2 ? 'odd' : 'even', `P ${String(i).padStart(2, '0')}`, 'user1'));
    await cdb.applyBlocks(blocks);
    const q: { caseType?: string; status?: 'open' | 'closed' | 'all'; limit: number } = {
      caseType: 'odd',
      limit: 1000,
    };
    const lists = async (): Promise<string[][]> => [
      (await cdb.query({ caseType: 'odd', limit: 1000 })).cases.map((c) => c.caseId),
      (await cdb.query({ caseType: 'even', status: 'open', sort: 'lastModified', limit: 1000 })).cases.map(
        (c) => c.caseId,
      ),
      (await cdb.query({ namePrefix: 'p 1', limit: 1000 })).cases.map((c) => c.caseId),
    ];
    const first = cdb.query(q);
    q.caseType = 'even';
    eq((await first).total, 30, 'the query as it was called');
    await lists();
    const steps: CaseBlock[] = [
      create('p60', 'odd', 'P 00a', 'user1'),
      { caseId: 'p3', actions: [{ kind: 'close' }] },
      { caseId: 'p4', actions: [{ kind: 'update', fields: [['case_name', 'P 99']] }] },
      {
        caseId: 'p10',
        dateModified: '2024-06-01T00:00:00Z',
        actions: [{ kind: 'update', fields: [['x', '1']] }],
      },
      { caseId: 'p12', actions: [{ kind: 'close' }] },
      create('p61', 'even', 'P 15', 'user1'),
    ];
    for (const [n, step] of steps.entries()) {
      await cdb.applyBlocks([step]);
      const other = env.reopen(db);
      const fresh = new CaseDb(other);
      const want = [
        (await fresh.query({ caseType: 'odd', limit: 1000 })).cases.map((c) => c.caseId),
        (
          await fresh.query({ caseType: 'even', status: 'open', sort: 'lastModified', limit: 1000 })
        ).cases.map((c) => c.caseId),
        (await fresh.query({ namePrefix: 'p 1', limit: 1000 })).cases.map((c) => c.caseId),
      ];
      other.close();
      eq(await lists(), want, `lists after step ${n + 1}, as a fresh connection computes them`);
    }
    db.close();
  },
};
