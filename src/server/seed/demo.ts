import { hashApiKey } from '../auth/api-keys.ts';
import { storeDigests } from '../auth/digest-store.ts';
import { hashPassword } from '../auth/passwords.ts';
import { getApp, getAppFiles, saveApp } from '../db/apps.ts';
import { CaseRepo, type StoredCase } from '../db/cases.ts';
import { type Db, getMeta, setMeta } from '../db/database.ts';
import { formatUsername } from '../db/users.ts';
import { hexId, nowIso, uuid4 } from '../ids.ts';
import { demoApplication } from './demo-app.ts';
import { demoAppFiles } from './demo-app-files.ts';
import { writeImportForms } from './import-forms.ts';
import { FIRST, LAST } from './synthetic.ts';

export const DEMO_DOMAIN = 'demo';
export const DEMO_PASSWORD = 'fieldsim';
export const DEMO_WORKERS = ['worker1', 'worker2'] as const;
export const DEMO_WEB_USER = 'admin@example.com';
export const DEMO_API_KEY = 'fieldsim-demo-key';
export const DEMO_GROUP_NAME = 'Demo field team';

const VILLAGES = ['Riverside', 'Hilltop', 'Lakeview', 'Marketplace', 'Old Mill'];

function pick<T>(list: readonly T[], i: number): T {
  return list[i % list.length]!;
}

export interface SeededUser {
  id: string;
  username: string;
}

function insertUser(
  db: Db,
  u: {
    id: string;
    domain: string;
    username: string;
    kind: 'mobile' | 'web';
    password: string;
    first: string;
    last: string;
    email?: string;
    apiKey?: string;
    userData?: Record<string, string>;
    locationIds?: string[];
    isAdmin?: boolean;
    role?: string;
  },
): void {
  db.prepare(
    `INSERT INTO users (id, domain, username, kind, password_hash, first_name, last_name, email, user_data,
     location_ids, primary_location, date_joined, api_key, role, is_admin)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    u.id,
    u.domain,
    u.username,
    u.kind,
    hashPassword(u.password),
    u.first,
    u.last,
    u.email ?? '',
    JSON.stringify(u.userData ?? {}),
    JSON.stringify(u.locationIds ?? []),
    u.locationIds?.[0] ?? null,
    nowIso().slice(0, 10),
    u.apiKey === undefined ? null : hashApiKey(u.apiKey),
    u.role ?? '',
    u.isAdmin ? 1 : 0,
  );
  storeDigests(db, u, u.password);
}

/**
 * Seeds the demo project (issue 2 and 5): domain `demo`; mobile workers worker1 and worker2
 * (password `fieldsim`); web user admin@example.com / fieldsim with API key
 * fieldsim-demo-key; a case-sharing group with both workers; a location; a lookup table;
 * one application; and 25 cases per worker (households and members indexed to them as
 * `parent`). Runs only on an empty database.
 */
export function seedDemo(db: Db): void {
  if (getMeta(db, 'seeded') !== undefined) return;
  const now = nowIso();
  const repo = new CaseRepo(db);
  db.transaction(() => {
    const locationId = hexId();
    db.prepare(
      'INSERT INTO locations (id, domain, name, location_type, site_code, parent_id, shares_cases) VALUES (?, ?, ?, ?, ?, NULL, 0)',
    ).run(locationId, DEMO_DOMAIN, 'Riverside clinic', 'clinic', 'riverside_clinic');
    const groupId = hexId();
    db.prepare('INSERT INTO groups (id, domain, name, case_sharing, reporting) VALUES (?, ?, ?, 1, 1)').run(
      groupId,
      DEMO_DOMAIN,
      DEMO_GROUP_NAME,
    );
    const workers: SeededUser[] = DEMO_WORKERS.map((short, i) => {
      const id = hexId();
      insertUser(db, {
        id,
        domain: DEMO_DOMAIN,
        username: formatUsername(short, DEMO_DOMAIN),
        kind: 'mobile',
        password: DEMO_PASSWORD,
        first: ['Wanjiru', 'Tomas'][i] ?? 'Worker',
        last: ['Demo', 'Demo'][i] ?? 'Demo',
        userData: { commcare_project: DEMO_DOMAIN, district: 'Riverside' },
        locationIds: [locationId],
      });
      db.prepare('INSERT INTO group_members (group_id, user_id) VALUES (?, ?)').run(groupId, id);
      return { id, username: short };
    });
    insertUser(db, {
      id: hexId(),
      domain: DEMO_DOMAIN,
      username: DEMO_WEB_USER,
      kind: 'web',
      password: DEMO_PASSWORD,
      first: 'Demo',
      last: 'Admin',
      email: DEMO_WEB_USER,
      apiKey: DEMO_API_KEY,
      isAdmin: true,
      role: 'Admin',
    });
    db.prepare('INSERT INTO lookup_tables (domain, tag, fields, rows) VALUES (?, ?, ?, ?)').run(
      DEMO_DOMAIN,
      'village',
      JSON.stringify(['id', 'name']),
      JSON.stringify(VILLAGES.map((v) => ({ id: v.toLowerCase().replace(/\s+/g, '_'), name: v }))),
    );
    saveDemoApp(db);

    // 25 cases per worker: 8 households and 17 members.
    let n = 0;
    for (const w of workers) {
      const households: StoredCase[] = [];
      for (let h = 0; h < 8; h++, n++) {
        const c = seededCase(DEMO_DOMAIN, w.id, now, 'household', `${pick(LAST, n)} household`, {
          village: pick(VILLAGES, n),
          household_size: String(2 + (n % 5)),
          visit_count: '0',
        });
        households.push(c);
        repo.save(c);
      }
      for (let m = 0; m < 17; m++, n++) {
        const hh = households[m % households.length]!;
        const c = seededCase(DEMO_DOMAIN, w.id, now, 'member', `${pick(FIRST, n)} ${hh.name.split(' ')[0]}`, {
          age: String(3 + ((n * 7) % 70)),
          sex: n % 2 === 0 ? 'female' : 'male',
        });
        c.indices.push({
          identifier: 'parent',
          caseType: 'household',
          caseId: hh.caseId,
          relationship: 'child',
        });
        repo.save(c);
      }
    }
    writeImportForms(
      db,
      db.prepare('SELECT case_id FROM cases WHERE domain = ?').pluck().all(DEMO_DOMAIN) as string[],
    );
    setMeta(db, 'seeded', now);
  })();
}

/** Stores the demo application: its API document and its CommCare files. */
function saveDemoApp(db: Db): void {
  const doc = demoApplication();
  saveApp(
    db,
    {
      id: doc.id,
      domain: DEMO_DOMAIN,
      name: doc.name,
      version: doc.version,
      builtOn: doc.built_on,
      isReleased: doc.is_released,
      doc: doc as unknown as Record<string, unknown>,
    },
    demoAppFiles(doc),
  );
}

/**
 * A database seeded before the demo app had CommCare files gets them (and the app's
 * build columns) when it is next opened; a seeded database without the app is left alone.
 */
export function upgradeDemoApp(db: Db): void {
  if (getMeta(db, 'seeded') === undefined) return;
  const app = getApp(db, DEMO_DOMAIN, demoApplication().id);
  if (app && getAppFiles(db, app.id).size === 0) saveDemoApp(db);
}

export function seededCase(
  domain: string,
  ownerId: string,
  now: string,
  caseType: string,
  name: string,
  properties: Record<string, string>,
): StoredCase {
  return {
    caseId: uuid4(),
    domain,
    caseType,
    name,
    ownerId,
    closed: false,
    deleted: false,
    openedOn: now,
    openedBy: ownerId,
    closedOn: null,
    closedBy: '',
    modifiedOn: now,
    serverModifiedOn: now,
    serverOpenedOn: now,
    userId: ownerId,
    externalId: '',
    locationId: '',
    properties,
    indices: [],
    attachments: [],
    xformIds: [],
    indexedOn: now,
  };
}
