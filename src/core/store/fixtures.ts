import type { FixtureRecord, FixtureSchema, XmlNode } from '../protocol/restore/restore-types.ts';
import type { FieldsimDb, FixtureRow, StoredFixture } from './fieldsim-db.ts';

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

/** Writes fixtures; call inside a transaction over `fixtures` and `fixtureRows`. */
export async function storeFixtures(
  db: FieldsimDb,
  fixtures: readonly FixtureRecord[],
  schemas: ReadonlyMap<string, FixtureSchema>,
): Promise<void> {
  for (const f of fixtures) {
    const key = `${f.id}|${f.userId}`;
    if (!f.indexed) {
      await db.fixtures.put({ key, id: f.id, userId: f.userId, indexed: false, root: f.root });
      continue;
    }
    const indices = schemas.get(f.id)?.indices ?? [];
    await db.fixtureRows.where('fixtureId').equals(f.id).delete();
    await db.fixtures.where('id').equals(f.id).delete();
    const rows: FixtureRow[] = f.root.children.map((node, rowIndex) => {
      const keys: Record<string, string> = {};
      for (const expr of indices) keys[expr] = evalIndex(node, expr);
      return { fixtureId: f.id, rowIndex, keys, node };
    });
    if (rows.length > 0) await db.fixtureRows.bulkPut(rows);
    const root: XmlNode = { ...f.root, children: [] };
    await db.fixtures.put({ key, id: f.id, userId: f.userId, indexed: true, root, indices });
  }
}

/** The fixture with this id (for the given user id, or any), with rows inlined for indexed ones. */
export async function getFixture(
  db: FieldsimDb,
  id: string,
  userId?: string,
): Promise<FixtureRecord | undefined> {
  const stored: StoredFixture | undefined =
    userId !== undefined
      ? await db.fixtures.get(`${id}|${userId}`)
      : await db.fixtures.where('id').equals(id).first();
  if (stored === undefined) return undefined;
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
  const rows = await db.fixtureRows.where('fixtureId').equals(fixtureId).sortBy('rowIndex');
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
