import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../db/database.ts';
import { nextIndexedOn } from '../db/indexed-on.ts';
import { writeImportForms } from './import-forms.ts';

/** Given and family names for seeded people (demo project and synthetic loads). */
export const FIRST = [
  'Amina',
  'Bongani',
  'Chen',
  'Dara',
  'Esi',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jomo',
  'Kofi',
  'Lena',
];
export const LAST = [
  'Okafor',
  'Mensah',
  'Nguyen',
  'Silva',
  'Haddad',
  'Kamau',
  'Osei',
  'Perez',
  'Banda',
  'Tran',
];
const VILLAGES = ['riverside', 'hilltop', 'lakeview', 'marketplace', 'old_mill'];

export interface SyntheticSeedOptions {
  domain: string;
  ownerId: string;
  count: number;
  /** One household per this many cases; the rest are members indexed to it (default 4). */
  householdEvery?: number;
  /**
   * Write the case-import forms the cases come from (`seed/import-forms.ts`; default true):
   * `xform_ids` and the form API as on HQ, at about twice the seeding time.
   */
  importForms?: boolean;
}

/**
 * Loads `count` synthetic cases owned by `ownerId`: households with members indexed to
 * them as `parent`, with realistic properties (about 650-700 bytes per case in a restore,
 * the size DESIGN.md's targets assume). Plain INSERTs in one transaction: the target is
 * >= 50k cases/s.
 */
export function seedSyntheticCases(
  db: Db,
  opts: SyntheticSeedOptions,
): { households: number; members: number } {
  const every = Math.max(1, opts.householdEvery ?? 4);
  const now = new Date().toISOString();
  // Multi-row INSERTs: one statement run per ROWS cases costs far less per row than one
  // run per case (binding and VM setup dominate for small rows).
  const ROWS = 50;
  const caseValues = `(?, ?, ?, ?, ?, 0, 0, ?, ?, NULL, '', ?, ?, ?, ?, ?, '', ?, ?, '[]', '[]', ?)`;
  const caseSql = (n: number) =>
    `INSERT INTO cases (case_id, domain, case_type, name, owner_id, closed, deleted, opened_on, opened_by, closed_on,
     closed_by, modified_on, server_modified_on, server_opened_on, user_id, external_id, location_id, properties, indices,
     attachments, xform_ids, indexed_on) VALUES ${Array.from({ length: n }, () => caseValues).join(',')}`;
  const indexSql = (n: number) =>
    `INSERT INTO case_indices (case_id, identifier, referenced_id, referenced_type, relationship) VALUES ${Array.from(
      { length: n },
      () => "(?, 'parent', ?, 'household', 'child')",
    ).join(',')}`;
  const fullCases = db.prepare(caseSql(ROWS));
  const fullIndices = db.prepare(indexSql(ROWS));
  const buffered = (full: Database.Statement, sql: (n: number) => string) => {
    let values: unknown[] = [];
    let rows = 0;
    return {
      run(...v: unknown[]) {
        for (const x of v) values.push(x);
        if (++rows === ROWS) this.flush();
      },
      flush() {
        if (rows === 0) return;
        (rows === ROWS ? full : db.prepare(sql(rows))).run(values);
        values = [];
        rows = 0;
      },
    };
  };
  const insertCase = buffered(fullCases, caseSql);
  const insertIndex = buffered(fullIndices, indexSql);
  // Ids are UUID-shaped but increase within a run (a random prefix, then a counter): the
  // primary-key and index B-trees then grow at their right edge instead of splitting pages
  // all over, which roughly doubles insert speed over random uuid4 keys.
  const r = randomUUID();
  const prefix = `${r.slice(0, 8)}-${r.slice(9, 13)}-8${r.slice(15, 18)}-${r.slice(19, 23)}`;
  let counter = 0;
  const nextId = () => `${prefix}-${(counter++).toString(16).padStart(12, '0')}`;
  const ids: string[] = [];
  let households = 0;
  let members = 0;
  db.transaction(() => {
    let household = '';
    let householdName = '';
    for (let i = 0; i < opts.count; i++) {
      const id = nextId();
      ids.push(id);
      const first = FIRST[i % FIRST.length]!;
      const last = LAST[(i >> 2) % LAST.length]!;
      const opened = new Date(Date.UTC(2025, i % 12, 1 + (i % 28))).toISOString();
      if (i % every === 0) {
        household = id;
        householdName = `${last} household ${i}`;
        const props = {
          village: VILLAGES[i % VILLAGES.length]!,
          household_size: String(2 + (i % 7)),
          visit_count: String(i % 5),
          water_source: i % 3 === 0 ? 'borehole' : 'piped',
          latrine: i % 2 === 0 ? 'yes' : 'no',
          gps: `-1.${(i * 7919) % 100000} 36.${(i * 104729) % 100000} 0 10`,
          last_visit_notes: 'Household visited; all members present and in good health.',
        };
        insertCase.run(
          id,
          opts.domain,
          'household',
          householdName,
          opts.ownerId,
          opened,
          opts.ownerId,
          opened,
          now,
          now,
          opts.ownerId,
          `HH-${i}`,
          JSON.stringify(props),
          '[]',
          nextIndexedOn(db),
        );
        households++;
      } else {
        const props = {
          age: String(1 + ((i * 37) % 80)),
          sex: i % 2 === 0 ? 'female' : 'male',
          dob: `${1945 + (i % 78)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
          phone: `+2547${String(10000000 + ((i * 7127) % 89999999))}`,
          relationship_to_head: i % every === 1 ? 'head' : 'child',
          immunisation_status: i % 4 === 0 ? 'complete' : 'partial',
        };
        const indices = [
          { identifier: 'parent', caseType: 'household', caseId: household, relationship: 'child' },
        ];
        insertCase.run(
          id,
          opts.domain,
          'member',
          `${first} ${last}`,
          opts.ownerId,
          opened,
          opts.ownerId,
          opened,
          now,
          now,
          opts.ownerId,
          '',
          JSON.stringify(props),
          JSON.stringify(indices),
          nextIndexedOn(db),
        );
        insertIndex.run(id, household);
        members++;
      }
    }
    // Index rows reference their member rows, so the case buffer goes first.
    insertCase.flush();
    insertIndex.flush();
    if (opts.importForms !== false) writeImportForms(db, ids);
  })();
  return { households, members };
}
