import type { FixtureRecord, FixtureSchema, XmlNode } from '../protocol/restore/restore-types.ts';
import type { FieldsimDb, FixtureRow, StoredFixture } from './fieldsim-db.ts';
import {
  openAll,
  openFixture,
  openFixtureRow,
  type SealedFixture,
  type SealedFixtureRow,
  sealAll,
  sealFixture,
  sealFixtureRow,
} from './sealed-rows.ts';

/**
 * Fixture storage (PROTOCOL.md 3.8; core: FixtureXmlParser.java, IndexedFixtureXmlParser.java).
 * A plain fixture replaces the stored one with the same (id, user_id). An indexed fixture
 * becomes one row per child of its root, replacing all rows of that id; a root with no
 * children empties it. Row keys are the values of the schema's index expressions.
 */

/** Value of an index expression (`@attr` or a child element name) on a row. */
export function evalIndex(node: XmlNode, expr: string): string {
  if (expr.startsWith('@')) return node.attributes[expr.slice(1)] ?? '';
  const child = node.children.find((c) => c.name === expr);
  return child === undefined ? '' : child.text.trim();
}

/** Fixture rows ready to store (sealed when the database is encrypted), see `prepareFixtures`. */
export interface PreparedFixtures {
  /** Indexed fixture ids whose stored rows and records are replaced. */
  replaceIds: string[];
  fixtures: (StoredFixture | SealedFixture)[];
  rows: (FixtureRow | SealedFixtureRow)[];
}

/**
 * Builds (and seals, for an encrypted database) the records of `fixtures`. Call before
 * the write transaction: sealing is async and must not run inside it.
 */
export async function prepareFixtures(
  db: FieldsimDb,
  fixtures: readonly FixtureRecord[],
  schemas: ReadonlyMap<string, FixtureSchema>,
): Promise<PreparedFixtures> {
  const c = db.vault.cipher();
  const replaceIds: string[] = [];
  const stored: StoredFixture[] = [];
  const rows: FixtureRow[] = [];
  for (const f of fixtures) {
    const key = `${f.id}|${f.userId}`;
    if (!f.indexed) {
      stored.push({ key, id: f.id, userId: f.userId, indexed: false, root: f.root });
      continue;
    }
    const indices = schemas.get(f.id)?.indices ?? [];
    replaceIds.push(f.id);
    // A later indexed fixture with the same id replaces the earlier one's rows.
    for (let i = rows.length - 1; i >= 0; i--) if (rows[i]?.fixtureId === f.id) rows.splice(i, 1);
    for (let i = stored.length - 1; i >= 0; i--) if (stored[i]?.id === f.id) stored.splice(i, 1);
    f.root.children.forEach((node, rowIndex) => {
      const keys: Record<string, string> = {};
      for (const expr of indices) keys[expr] = evalIndex(node, expr);
      rows.push({ fixtureId: f.id, rowIndex, keys, node });
    });
    const root: XmlNode = { ...f.root, children: [] };
    stored.push({ key, id: f.id, userId: f.userId, indexed: true, root, indices });
  }
  return {
    replaceIds: [...new Set(replaceIds)],
    fixtures: await sealAll(c, stored, sealFixture),
    rows: await sealAll(c, rows, sealFixtureRow),
  };
}

/** Writes prepared fixtures; call inside a transaction over `fixtures` and `fixtureRows`. */
export async function writeFixtures(db: FieldsimDb, p: PreparedFixtures): Promise<void> {
  for (const id of p.replaceIds) {
    await db.fixtureRows.where('fixtureId').equals(id).delete();
    await db.fixtures.where('id').equals(id).delete();
  }
  if (p.rows.length > 0) await db.fixtureRows.bulkPut(p.rows);
  if (p.fixtures.length > 0) await db.fixtures.bulkPut(p.fixtures);
}

/** The fixture with this id (for the given user id, or any), with rows inlined for indexed ones. */
export async function getFixture(
  db: FieldsimDb,
  id: string,
  userId?: string,
): Promise<FixtureRecord | undefined> {
  const c = db.vault.cipher();
  const found =
    userId !== undefined
      ? await db.fixtures.get(`${id}|${userId}`)
      : await db.fixtures.where('id').equals(id).first();
  if (found === undefined) return undefined;
  const stored = c === null ? (found as StoredFixture) : await openFixture(c, found);
  const root = stored.root as XmlNode;
  if (!stored.indexed) return { id: stored.id, userId: stored.userId, indexed: false, root };
  const rows = await getFixtureRows(db, id);
  return { id: stored.id, userId: stored.userId, indexed: true, root: { ...root, children: rows } };
}

/** Ids of stored fixtures, each once, sorted. */
export async function listFixtureIds(db: FieldsimDb): Promise<string[]> {
  const ids = new Set<string>();
  await db.fixtures.each((f) => {
    ids.add(f.id);
  });
  return [...ids].sort();
}

/**
 * Rows of an indexed fixture, in document order, optionally filtered by exact values of
 * index expressions (`{'@id': 'x'}`, `{name: 'y'}`). Expressions without a stored key are
 * evaluated on the row.
 */
export async function getFixtureRows(
  db: FieldsimDb,
  fixtureId: string,
  where: Record<string, string> = {},
): Promise<XmlNode[]> {
  const c = db.vault.cipher();
  const rows = await openAll(
    c,
    await db.fixtureRows.where('fixtureId').equals(fixtureId).sortBy('rowIndex'),
    openFixtureRow,
  );
  const conds = Object.entries(where);
  const out: XmlNode[] = [];
  for (const r of rows) {
    const node = r.node as XmlNode;
    if (conds.every(([expr, v]) => (r.keys[expr] ?? evalIndex(node, expr)) === v)) out.push(node);
  }
  return out;
}

/** Group ids from a `user-groups` fixture (`<groups><group id>`). */
export function groupIdsOf(f: FixtureRecord): string[] {
  return f.root.children
    .filter((g) => g.name === 'group' && g.attributes.id)
    .map((g) => g.attributes.id as string);
}
