import { writeCaseBlock } from '../../core/protocol/casexml/case-block-writer.ts';
import type { CaseAction, CaseBlock } from '../../core/protocol/casexml/case-types.ts';
import { NS } from '../../core/protocol/namespaces.ts';
import { escapeXmlAttr, escapeXmlText } from '../../core/protocol/xml-escape.ts';
import { formatHqDateTime } from '../casexml/dates.ts';
import type { StoredCase } from '../db/cases.ts';
import { cached, type Db } from '../db/database.ts';
import { caseSharingGroups, rawUsername, type UserRow } from '../db/users.ts';
import { hexId, nowIso } from '../ids.ts';
import { cachedBlockColumns, keepCaseBlocks } from './case-xml-cache.ts';
import { computeLiveSet, type GraphNode } from './live-set.ts';
import type { SyncLog } from './sync-logs.ts';

export interface RestoreRequest {
  domain: string;
  user: UserRow;
  /** The previous sync log for an incremental restore. */
  since: SyncLog | undefined;
  skipFixtures: boolean;
  deviceId: string;
  appId: string;
}

export interface RestorePlan {
  log: SyncLog;
  /** Top-level elements, for `items` (message + Sync + Registration + fixtures + cases). */
  itemCount: number;
  caseCount: number;
  /** Writes the payload lazily, a batch of cases at a time. */
  chunks(items: boolean): Generator<string>;
}

const BATCH = 1000;

interface LightCase {
  ownerId: string;
  closed: boolean;
  edges: { target: string; relationship: 'child' | 'extension' }[];
}

/**
 * The domain's extension edges, read on every restore; the partial index
 * `case_indices_extension` (db/database.ts) keeps it from scanning every case index.
 */
export const EXTENSION_EDGES_SQL = `SELECT ci.case_id, ci.referenced_id FROM case_indices ci JOIN cases c ON c.case_id = ci.case_id
     WHERE ci.relationship = 'extension' AND c.domain = ? AND c.deleted = 0`;

/**
 * HQ's livequery (`get_payload`, hq:.../casexml/apps/phone/data_providers/case/livequery.py):
 * start from open cases owned by the user's owner ids, walk indices out to parents and
 * hosts and in from hosts to their extensions, then keep the cases the live-set rules
 * keep. Returns the live ids and the owned-open ids.
 */
export function liveQuery(
  db: Db,
  domain: string,
  ownerIds: string[],
): { live: Set<string>; owned: Set<string> } {
  // Extension edges of the domain, by host (extensions are rare; one query serves all hosts).
  const extByHost = new Map<string, string[]>();
  for (const r of cached(db, EXTENSION_EDGES_SQL).all(domain) as {
    case_id: string;
    referenced_id: string;
  }[]) {
    const list = extByHost.get(r.referenced_id);
    if (list) list.push(r.case_id);
    else extByHost.set(r.referenced_id, [r.case_id]);
  }
  if (extByHost.size === 0) {
    const lean = childOnlyLiveQuery(db, domain, ownerIds);
    if (lean) return lean;
  }
  return generalLiveQuery(db, domain, ownerIds, extByHost);
}

/**
 * The live set when the domain has no extension index: the owned open cases plus
 * everything they index, transitively (PROTOCOL.md 5.2 with no extension rules in play).
 * It reads ids only — the edges come from `case_indices` — so a 100k-case restore does
 * not parse 100k index lists. Returns undefined when an index target is missing (or
 * deleted): that case, and whatever indexes it, must go, which the general rules decide.
 */
function childOnlyLiveQuery(
  db: Db,
  domain: string,
  ownerIds: string[],
): { live: Set<string>; owned: Set<string> } | undefined {
  const ownedIds = cached(
    db,
    'SELECT case_id FROM cases WHERE domain = ? AND owner_id = ? AND closed = 0 AND deleted = 0',
  ).pluck();
  const ownedTargets = cached(
    db,
    `SELECT ci.referenced_id FROM case_indices ci JOIN cases c ON c.case_id = ci.case_id
     WHERE c.domain = ? AND c.owner_id = ? AND c.closed = 0 AND c.deleted = 0`,
  ).pluck();
  const owners = [...new Set(ownerIds)];
  const owned = new Set<string>();
  for (const ownerId of owners) for (const id of ownedIds.all(domain, ownerId) as string[]) owned.add(id);
  const live = new Set(owned);
  let want = new Set<string>();
  for (const ownerId of owners)
    for (const t of ownedTargets.all(domain, ownerId) as string[]) if (!live.has(t)) want.add(t);
  const present = cached(
    db,
    'SELECT case_id FROM cases WHERE domain = ? AND deleted = 0 AND case_id IN (SELECT value FROM json_each(?))',
  ).pluck();
  const targetsOf = cached(
    db,
    'SELECT referenced_id FROM case_indices WHERE case_id IN (SELECT value FROM json_each(?))',
  ).pluck();
  while (want.size > 0) {
    const ids = [...want];
    want = new Set();
    for (let i = 0; i < ids.length; i += BATCH) {
      const slice = JSON.stringify(ids.slice(i, i + BATCH));
      const found = present.all(domain, slice) as string[];
      if (found.length < Math.min(BATCH, ids.length - i)) return undefined;
      for (const id of found) live.add(id);
      for (const t of targetsOf.all(slice) as string[]) if (!live.has(t)) want.add(t);
    }
  }
  return { live, owned };
}

/** The general livequery walk (any extension indices, missing targets). */
function generalLiveQuery(
  db: Db,
  domain: string,
  ownerIds: string[],
  extByHost: Map<string, string[]>,
): { live: Set<string>; owned: Set<string> } {
  const owners = new Set(ownerIds);
  const light = new Map<string, LightCase>();
  const parse = (r: { case_id: string; owner_id: string; closed: number; indices: string }): LightCase => {
    const idx =
      r.indices === '[]'
        ? []
        : (JSON.parse(r.indices) as { caseId: string; relationship: 'child' | 'extension' }[]);
    return {
      ownerId: r.owner_id,
      closed: r.closed === 1,
      edges: idx.map((i) => ({ target: i.caseId, relationship: i.relationship })),
    };
  };
  // Raw rows (arrays) allocate far less than objects on 100k-case restores.
  const ownedStmt = cached(
    db,
    'SELECT case_id, owner_id, indices FROM cases WHERE domain = ? AND owner_id = ? AND closed = 0 AND deleted = 0',
  );
  const owned = new Set<string>();
  for (const ownerId of new Set(ownerIds)) {
    const rows = ownedStmt.raw(true).all(domain, ownerId) as [string, string, string][];
    ownedStmt.raw(false);
    for (const [caseId, owner, indices] of rows) {
      light.set(caseId, parse({ case_id: caseId, owner_id: owner, closed: 0, indices }));
      owned.add(caseId);
    }
  }
  const fetch = cached(
    db,
    `SELECT case_id, owner_id, closed, indices FROM cases WHERE domain = ? AND deleted = 0
     AND case_id IN (SELECT value FROM json_each(?))`,
  );
  let frontier = [...light.keys()];
  const missing = new Set<string>();
  while (frontier.length > 0) {
    const want = new Set<string>();
    for (const id of frontier) {
      const c = light.get(id)!;
      for (const e of c.edges) if (!light.has(e.target) && !missing.has(e.target)) want.add(e.target);
      for (const ext of extByHost.get(id) ?? []) if (!light.has(ext) && !missing.has(ext)) want.add(ext);
    }
    frontier = [];
    const ids = [...want];
    for (let i = 0; i < ids.length; i += BATCH) {
      const slice = ids.slice(i, i + BATCH);
      const rows = fetch.all(domain, JSON.stringify(slice)) as {
        case_id: string;
        owner_id: string;
        closed: number;
        indices: string;
      }[];
      for (const r of rows) {
        light.set(r.case_id, parse(r));
        frontier.push(r.case_id);
      }
      for (const id of slice) if (!light.has(id)) missing.add(id);
    }
  }
  const anyExtension =
    extByHost.size > 0 ||
    [...light.values()].some((c) => c.edges.some((e) => e.relationship === 'extension'));
  if (!anyExtension) {
    // Without extension indices the rules reduce to: owned open cases plus everything
    // they index, transitively — minus any case whose index target does not exist, with
    // the cases indexing it (PROTOCOL.md 5.2 step 1). This skips the general graph walk.
    if (missing.size === 0) return { live: new Set(light.keys()), owned };
  }
  const nodes = new Map<string, GraphNode>();
  for (const [id, c] of light)
    nodes.set(id, { owned: owners.has(c.ownerId), closed: c.closed, edges: c.edges });
  return { live: computeLiveSet(nodes), owned };
}

const RAW_COLUMNS =
  'case_id, case_type, name, owner_id, closed, opened_on, modified_on, user_id, external_id, properties, indices';
export type RawCase = [
  string,
  string,
  string,
  string,
  number,
  string | null,
  string,
  string,
  string,
  string,
  string,
  number?,
];

const CACHED_COLUMNS = cachedBlockColumns(RAW_COLUMNS.split(', ').slice(1), 'c', 'x');

/**
 * A restore query's row: the case id, then either the other RawCase columns and a NULL
 * block, or NULLs and the block kept for the case (case-xml-cache.ts); then its rowid.
 */
type CachedRow = [string, ...(string | number | null)[]] & { 11: string | null; 12: number };

/** A case row as the restore query returns it, as the general writer takes it. */
export function fromRaw(r: RawCase): RestoreCase {
  return {
    caseId: r[0],
    caseType: r[1],
    name: r[2],
    ownerId: r[3],
    closed: r[4] === 1,
    openedOn: r[5],
    modifiedOn: r[6],
    userId: r[7],
    externalId: r[8],
    properties: JSON.parse(r[9]) as Record<string, string>,
    indices: r[10] === '[]' ? [] : (JSON.parse(r[10]) as RestoreCase['indices']),
  };
}

/** `<update>` and the rest of a restore case block (PROTOCOL.md 3.9, `get_case_element`). */
export type RestoreCase = Pick<
  StoredCase,
  | 'caseId'
  | 'caseType'
  | 'name'
  | 'ownerId'
  | 'closed'
  | 'openedOn'
  | 'modifiedOn'
  | 'userId'
  | 'externalId'
  | 'properties'
  | 'indices'
>;

export function restoreCaseBlock(c: RestoreCase, withCreate: boolean, copy = 0): CaseBlock {
  const suffix = copy > 0 ? `-${copy}` : '';
  const name = copy > 0 ? `${c.name} (${copy})` : c.name;
  const actions: CaseAction[] = [];
  const fields: [string, string][] = [];
  if (withCreate) actions.push({ kind: 'create', caseType: c.caseType, caseName: name, ownerId: c.ownerId });
  else fields.push(['case_type', c.caseType], ['case_name', name], ['owner_id', c.ownerId]);
  if (c.externalId !== '') fields.push(['external_id', c.externalId]);
  if (c.openedOn) fields.push(['date_opened', c.openedOn.slice(0, 10)]);
  for (const [k, v] of Object.entries(c.properties)) fields.push([k, v]);
  if (fields.length > 0) actions.push({ kind: 'update', fields });
  if (c.indices.length > 0) {
    const sorted = [...c.indices].sort((a, b) =>
      a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0,
    );
    actions.push({
      kind: 'index',
      entries: sorted.map((i) => ({
        identifier: i.identifier,
        caseType: i.caseType,
        target: `${i.caseId}${suffix}`,
        relationship: i.relationship,
      })),
    });
  }
  if (c.closed) actions.push({ kind: 'close' });
  const block: CaseBlock = { caseId: `${c.caseId}${suffix}`, userId: c.userId, actions };
  if (c.modifiedOn) block.dateModified = formatHqDateTime(c.modifiedOn);
  return block;
}

const VALID_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

const CASE_OPEN = `<case xmlns="${NS.caseV2}" case_id="`;

function xmlEl(name: string, value: unknown): string {
  const v = typeof value === 'string' ? value : String(value);
  return v === '' ? `<${name}/>` : `<${name}>${escapeXmlText(v)}</${name}>`;
}

/**
 * One restore case block written straight from its row: the same bytes as
 * `writeCaseBlock(restoreCaseBlock(fromRaw(r), withCreate))` (a test holds them equal),
 * without the intermediate case and block objects, whose allocation was a third of a
 * 100k-case restore's time in garbage collection. Returns undefined for a row it does not
 * write (a property or index name that is not an XML name): the general path decides.
 */
export function restoreCaseXml(r: RawCase, withCreate: boolean): string | undefined {
  const [caseId, caseType, name, ownerId, closed, openedOn, modifiedOn, userId, externalId, props, idx] = r;
  let s = CASE_OPEN + escapeXmlAttr(caseId);
  if (modifiedOn) s += `" date_modified="${escapeXmlAttr(formatHqDateTime(modifiedOn))}`;
  s += `" user_id="${escapeXmlAttr(userId)}">`;
  let update = '';
  if (withCreate)
    s += `<create>${xmlEl('case_type', caseType)}${xmlEl('case_name', name)}${xmlEl('owner_id', ownerId)}</create>`;
  else update = xmlEl('case_type', caseType) + xmlEl('case_name', name) + xmlEl('owner_id', ownerId);
  if (externalId !== '') update += xmlEl('external_id', externalId);
  if (openedOn) update += xmlEl('date_opened', openedOn.slice(0, 10));
  if (props !== '{}') {
    const properties = JSON.parse(props) as Record<string, unknown>;
    for (const k in properties) {
      if (!VALID_NAME.test(k)) return undefined;
      update += xmlEl(k, properties[k]);
    }
  }
  if (update !== '') s += `<update>${update}</update>`;
  if (idx !== '[]') {
    const indices = JSON.parse(idx) as RestoreCase['indices'];
    if (indices.length > 1)
      indices.sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
    let x = '';
    for (const i of indices) {
      if (!VALID_NAME.test(i.identifier)) return undefined;
      const rel =
        i.relationship !== undefined && i.relationship !== 'child'
          ? ` relationship="${escapeXmlAttr(i.relationship)}"`
          : '';
      x += `<${i.identifier} case_type="${escapeXmlAttr(i.caseType)}"${rel}>${escapeXmlText(i.caseId)}</${i.identifier}>`;
    }
    if (indices.length > 0) s += `<index>${x}</index>`;
  }
  if (closed === 1) s += '<close/>';
  return `${s}</case>`;
}

function writeBlock(block: CaseBlock): string {
  try {
    return writeCaseBlock(block);
  } catch {
    // A property name that is not an XML name cannot be written; drop it rather than
    // break the whole restore.
    for (const a of block.actions)
      if (a.kind === 'update') a.fields = a.fields.filter(([k]) => VALID_NAME.test(k));
    return writeCaseBlock(block);
  }
}

function userData(user: UserRow): [string, string][] {
  const data: Record<string, string> = { ...(JSON.parse(user.user_data) as Record<string, string>) };
  const phones = JSON.parse(user.phone_numbers) as string[];
  const locs = JSON.parse(user.location_ids) as string[];
  data.commcare_first_name = user.first_name;
  data.commcare_last_name = user.last_name;
  data.commcare_phone_number = phones[0] ?? '';
  data.commcare_project = user.domain;
  if (locs.length > 0) {
    data.commcare_location_id = user.primary_location ?? locs[0]!;
    data.commcare_location_ids = locs.join(' ');
  }
  return Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `get_registration_element` (hq:.../casexml/apps/phone/xml.py): short username first. */
export function registrationXml(user: UserRow): string {
  let s = `<Registration xmlns="${NS.registration}">`;
  s += `<username>${escapeXmlText(rawUsername(user))}</username>`;
  s += `<password>${escapeXmlText(user.password_hash)}</password>`;
  s += `<uuid>${escapeXmlText(user.id)}</uuid>`;
  s += `<date>${escapeXmlText(user.date_joined)}</date>`;
  s += '<user_data>';
  for (const [k, v] of userData(user)) s += `<data key="${escapeXmlAttr(k)}">${escapeXmlText(v)}</data>`;
  s += '</user_data></Registration>';
  return s;
}

/** Fixtures: `user-groups`, lookup tables (`item-list:<tag>`), and locations (PROTOCOL.md 3.8). */
function fixturesXml(db: Db, user: UserRow): string[] {
  const out: string[] = [];
  const uid = escapeXmlAttr(user.id);
  let groups = `<fixture id="user-groups" user_id="${uid}"><groups>`;
  // `UserGroupsFixtureProvider.group_fixture` (HQ's user-groups fixture provider):
  // `<groups>` is always present, so the fixture is sent even without groups;
  // `group_data` only for groups with metadata.
  for (const g of caseSharingGroups(db, user)) {
    groups += `<group id="${escapeXmlAttr(g.id)}"><name>${escapeXmlText(g.name)}</name>`;
    const meta = Object.entries(g.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (meta.length > 0) {
      groups += '<group_data>';
      for (const [k, v] of meta)
        groups += `<data key="${escapeXmlAttr(k)}">${escapeXmlText(String(v))}</data>`;
      groups += '</group_data>';
    }
    groups += '</group>';
  }
  out.push(`${groups}</groups></fixture>`);
  const tables = db
    .prepare('SELECT tag, fields, rows FROM lookup_tables WHERE domain = ? ORDER BY tag')
    .all(user.domain) as {
    tag: string;
    fields: string;
    rows: string;
  }[];
  for (const t of tables) {
    if (!VALID_NAME.test(t.tag)) continue;
    const fieldNames = (JSON.parse(t.fields) as string[]).filter((f) => VALID_NAME.test(f));
    let s = `<fixture id="item-list:${escapeXmlAttr(t.tag)}" user_id="${uid}"><${t.tag}_list>`;
    for (const row of JSON.parse(t.rows) as Record<string, string>[]) {
      s += `<${t.tag}>`;
      for (const f of fieldNames) s += `<${f}>${escapeXmlText(row[f] ?? '')}</${f}>`;
      s += `</${t.tag}>`;
    }
    out.push(`${s}</${t.tag}_list></fixture>`);
  }
  const locIds = JSON.parse(user.location_ids) as string[];
  if (locIds.length > 0) {
    const locs = db
      .prepare(
        'SELECT * FROM locations WHERE domain = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY name, id',
      )
      .all(user.domain, JSON.stringify(locIds)) as {
      id: string;
      name: string;
      location_type: string;
      site_code: string;
      parent_id: string | null;
    }[];
    out.push(
      '<schema id="locations"><indices><index>@id</index><index>@type</index><index>@parent_id</index></indices></schema>',
    );
    let s = `<fixture id="locations" indexed="true" user_id="${uid}"><locations>`;
    for (const l of locs) {
      s += `<location id="${escapeXmlAttr(l.id)}" type="${escapeXmlAttr(l.location_type)}" parent_id="${escapeXmlAttr(l.parent_id ?? '')}">`;
      s += `<name>${escapeXmlText(l.name)}</name><site_code>${escapeXmlText(l.site_code)}</site_code>`;
      s += `<location_type>${escapeXmlText(l.location_type)}</location_type></location>`;
    }
    out.push(`${s}</locations></fixture>`);
  }
  return out;
}

/**
 * Ledger `<balance>` blocks for the cases being sent, one per (case, section), in the
 * shape of `core:src/test/resources/ledger_create_basic.xml`. Returns the XML by case id
 * and how many top-level elements that adds to `items`.
 */
function ledgerBlocks(
  db: Db,
  domain: string,
  caseIds: string[],
): { byCase: Map<string, string>; count: number } {
  const byCase = new Map<string, string>();
  const any = cached(db, 'SELECT 1 FROM ledger_values WHERE domain = ? LIMIT 1').get(domain);
  if (!any) return { byCase, count: 0 };
  const wanted = new Set(caseIds);
  const rows = cached(
    db,
    `SELECT case_id, section_id, entry_id, balance, last_modified FROM ledger_values WHERE domain = ?
     ORDER BY case_id, section_id, entry_id`,
  ).all(domain) as {
    case_id: string;
    section_id: string;
    entry_id: string;
    balance: number;
    last_modified: string;
  }[];
  let count = 0;
  let i = 0;
  while (i < rows.length) {
    const first = rows[i]!;
    let j = i;
    let date = first.last_modified;
    let entries = '';
    while (
      j < rows.length &&
      rows[j]!.case_id === first.case_id &&
      rows[j]!.section_id === first.section_id
    ) {
      const r = rows[j]!;
      if (r.last_modified > date) date = r.last_modified;
      entries += `<ns0:entry id="${escapeXmlAttr(r.entry_id)}" quantity="${r.balance}"/>`;
      j++;
    }
    if (wanted.has(first.case_id)) {
      const block =
        `<ns0:balance xmlns:ns0="${NS.ledger}" date="${formatHqDateTime(date)}" entity-id="${escapeXmlAttr(first.case_id)}"` +
        ` section-id="${escapeXmlAttr(first.section_id)}">${entries}</ns0:balance>`;
      byCase.set(first.case_id, (byCase.get(first.case_id) ?? '') + block);
      count++;
    }
    i = j;
  }
  return { byCase, count };
}

/** Case ids touched since the log by anyone but the log's own phone (PROTOCOL.md 3.10). */
function modifiedSince(db: Db, log: SyncLog): Set<string> {
  const rows = db
    .prepare(
      // `>=`: a form processed in the same millisecond as the previous restore is sent
      // again rather than risk never being sent.
      'SELECT DISTINCT case_id FROM case_transactions WHERE server_date >= ? AND (sync_log_id IS NULL OR sync_log_id != ?)',
    )
    .all(log.date, log.id) as { case_id: string }[];
  return new Set(rows.map((r) => r.case_id));
}

/**
 * Plans a restore: selects the cases (full or incremental), builds the new sync log, and
 * returns a lazy writer for HQ's payload layout (PROTOCOL.md 3.7): root, message, Sync,
 * Registration, fixtures, then case blocks in batches.
 */
export function planRestore(db: Db, req: RestoreRequest, ownerIds: string[]): RestorePlan {
  const { live, owned } = liveQuery(db, req.domain, ownerIds);
  const since = req.since;
  let toSend: string[];
  let onPhone: Set<string>;
  if (since) {
    onPhone = new Set(since.caseIdsOnPhone);
    const modified = modifiedSince(db, since);
    toSend = [...live].filter((id) => !onPhone.has(id));
    for (const id of onPhone) if (modified.has(id)) toSend.push(id);
  } else {
    onPhone = new Set();
    toSend = [...live];
  }
  // HQ's load-test multiplier repeats each case with derived ids on initial restores only.
  const factor = since ? 1 : Math.max(1, req.user.loadtest_factor);
  const phoneIds = [...live];
  if (factor > 1) for (let f = 1; f < factor; f++) for (const id of live) phoneIds.push(`${id}-${f}`);
  const log: SyncLog = {
    id: hexId(),
    domain: req.domain,
    userId: req.user.id,
    date: nowIso(),
    previousLogId: since?.id ?? null,
    deviceId: req.deviceId,
    appId: req.appId,
    ownerIds,
    caseIdsOnPhone: phoneIds,
    dependentCaseIds: [...live].filter((id) => !owned.has(id)),
  };
  const fixtures = req.skipFixtures && since ? [] : fixturesXml(db, req.user);
  const caseCount = toSend.length * factor;
  const ledgers = ledgerBlocks(db, req.domain, toSend);
  const itemCount = 3 + fixtures.length + caseCount + ledgers.count;
  const registration = registrationXml(req.user);
  // Only the columns a restore block needs, as raw arrays (see RAW_COLUMNS), or the block
  // kept from an earlier restore (case-xml-cache.ts): then the columns come back NULL.
  const pageOwned = cached(
    db,
    `SELECT c.case_id, ${CACHED_COLUMNS}, c.rowid FROM cases c
     LEFT JOIN case_restore_xml x ON x.case_rowid = c.rowid
     WHERE c.domain = ? AND c.owner_id = ? AND c.closed = 0 AND c.deleted = 0 AND c.rowid > ? ORDER BY c.rowid LIMIT ?`,
  );
  const fetchByIds = cached(
    db,
    `SELECT c.case_id, ${CACHED_COLUMNS}, c.rowid FROM cases c
     LEFT JOIN case_restore_xml x ON x.case_rowid = c.rowid
     WHERE c.case_id IN (SELECT value FROM json_each(?))`,
  );
  const short = rawUsername(req.user);
  const writeRows = (rows: CachedRow[]): string => {
    let s = '';
    const fresh: [number, string][] = [];
    for (const r of rows) {
      const create = !onPhone.has(r[0]);
      const kept = r[11];
      if (create && factor === 1 && kept !== null) {
        s += kept;
        s += ledgers.byCase.get(r[0]) ?? '';
        continue;
      }
      const raw = kept === null ? (r as unknown as RawCase) : undefined;
      // A kept block stands for a create block only; the other shapes read the row again.
      const row = raw ?? (fetchRaw.raw(true).get(r[0]) as RawCase);
      fetchRaw.raw(false);
      const direct = factor === 1 ? restoreCaseXml(row, create) : undefined;
      if (direct !== undefined) {
        s += direct;
        if (create) fresh.push([r[12]!, direct]);
      } else {
        const c = fromRaw(row);
        s += writeBlock(restoreCaseBlock(c, create));
        s += ledgers.byCase.get(c.caseId) ?? '';
        for (let f = 1; f < factor; f++) s += writeBlock(restoreCaseBlock(c, create, f));
        continue;
      }
      s += ledgers.byCase.get(row[0]) ?? '';
    }
    keepCaseBlocks(db, fresh);
    return s;
  };
  const fetchRaw = cached(db, `SELECT ${RAW_COLUMNS} FROM cases WHERE case_id = ?`);
  const readAndWrite = <T>(step: () => T): T => db.transaction(step)();
  return {
    log,
    itemCount,
    caseCount,
    *chunks(items: boolean) {
      yield `<OpenRosaResponse xmlns="${NS.openrosaResponse}"${items ? ` items="${itemCount}"` : ''}>`;
      yield `<message nature="ota_restore_success">Successfully restored account ${escapeXmlText(short)}!</message>`;
      yield `<Sync xmlns="${NS.sync}"><restore_id>${log.id}</restore_id></Sync>`;
      yield registration;
      for (const f of fixtures) yield f;
      let rest = toSend;
      if (!since) {
        // A full restore is mostly the owned open cases: read them in index order, a
        // batch per step (keyset paging keeps memory flat and no statement stays open
        // between steps, so other requests can use the database meanwhile).
        for (const ownerId of new Set(ownerIds)) {
          let last = 0;
          for (;;) {
            // Read and keep in one transaction: a block is kept only if no other
            // connection changed the cases since they were read (SQLite refuses the
            // write of a stale snapshot, and keepCaseBlocks then keeps nothing).
            const page = readAndWrite(() => {
              const rows = pageOwned.raw(true).all(req.domain, ownerId, last, BATCH) as CachedRow[];
              pageOwned.raw(false);
              if (rows.length === 0) return undefined;
              last = rows[rows.length - 1]![12] as number;
              // A full restore sends exactly the live cases; owned open ones come from here.
              return writeRows(rows.filter((r) => live.has(r[0])));
            });
            if (page === undefined) break;
            yield page;
          }
        }
        // The rest: live cases that are not owned and open (parents, hosts, extensions).
        rest = toSend.filter((id) => !owned.has(id));
      }
      for (let i = 0; i < rest.length; i += BATCH) {
        yield readAndWrite(() => {
          const rows = fetchByIds.raw(true).all(JSON.stringify(rest.slice(i, i + BATCH))) as CachedRow[];
          fetchByIds.raw(false);
          return writeRows(rows);
        });
      }
      yield '</OpenRosaResponse>';
    },
  };
}
