import { XmlError, type XmlPosition } from '../../errors/xml-error.ts';
import type {
  FixtureRecord,
  FixtureSchema,
  LedgerBalance,
  RegistrationRecord,
  XmlNode,
} from './restore-types.ts';

/**
 * Converters from a captured top-level element to the restore's plain records. Each
 * cites the commcare-core parser whose rules it follows.
 */

function childText(node: XmlNode, name: string): string | undefined {
  const c = node.children.find((n) => n.name === name);
  return c === undefined ? undefined : c.text.trim();
}

/** `<Sync><restore_id>` (core: CommCareTransactionParserFactory.java: the sync token). */
export function readSync(node: XmlNode, where: XmlPosition): string {
  const id = childText(node, 'restore_id');
  if (id === undefined) throw new XmlError('xml-invalid', '<Sync> has no <restore_id>', where);
  return id;
}

const REG_HEAD = ['username', 'password', 'uuid', 'date'] as const;
const REG_TAIL = new Set(['registering_phone_id', 'token', 'user_data']);

/**
 * `<Registration>` (core: org/commcare/core/parse/UserXmlParser.java): username, password,
 * uuid, date in that order, then only registering_phone_id, token, user_data. HQ always
 * sends password; we accept its absence (samples in some tools omit it) but keep the order.
 */
export function readRegistration(node: XmlNode, where: XmlPosition): RegistrationRecord {
  const reg: RegistrationRecord = { username: '', passwordHash: '', uuid: '', date: '', userData: {} };
  let i = 0;
  const kids = node.children;
  for (const name of REG_HEAD) {
    const k = kids[i];
    if (k !== undefined && k.name === name) {
      const v = k.text.trim();
      if (name === 'username') reg.username = v;
      else if (name === 'password') reg.passwordHash = v;
      else if (name === 'uuid') reg.uuid = v;
      else reg.date = v;
      i++;
    } else if (name !== 'password') {
      throw new XmlError(
        'xml-invalid',
        `<Registration> must list username, password, uuid, date in order; expected <${name}>, found ${k ? `<${k.name}>` : 'nothing'}`,
        where,
      );
    }
  }
  for (; i < kids.length; i++) {
    const k = kids[i] as XmlNode;
    if (!REG_TAIL.has(k.name))
      throw new XmlError('xml-invalid', `<Registration> has an unexpected <${k.name}>`, where);
    if (k.name === 'user_data')
      for (const d of k.children) {
        const key = d.attributes.key;
        if (d.name === 'data' && key !== undefined) reg.userData[key] = d.text.trim();
      }
  }
  return reg;
}

/** An index expression is `@attr` or a child element name; anything else could be injected
 * into storage queries (core: IndexedFixtureXmlParser / malicious-indexed-fixture.xml). */
const INDEX_EXPR = /^@?[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `<schema id><indices><index>expr</index>…` (core: FixtureIndexSchemaParser.java). A
 * composite index `name,unit` is accepted and stored as its single indexes `name` and
 * `unit`, as `FixtureIndexSchema.getSingleIndices` breaks it up; each part is checked.
 */
export function readSchema(node: XmlNode, where: XmlPosition): FixtureSchema {
  const id = node.attributes.id;
  if (id === undefined || id === '') throw new XmlError('fixture-invalid', '<schema> has no id', where);
  const indices: string[] = [];
  for (const group of node.children)
    if (group.name === 'indices')
      for (const ix of group.children) {
        if (ix.name !== 'index') continue;
        const text = ix.text.trim();
        for (const expr of text.split(',')) {
          if (!INDEX_EXPR.test(expr))
            throw new XmlError(
              'fixture-invalid',
              `Fixture schema ${id}: invalid index name ${JSON.stringify(text)}`,
              where,
            );
          if (!indices.includes(expr)) indices.push(expr);
        }
      }
  return { id, indices };
}

/**
 * `<fixture id [user_id] [indexed]>` (core: FixtureXmlParser.java, IndexedFixtureXmlParser.java).
 * Returns null for a fixture without a child element: the phone does not store it and
 * does not wipe the stored one (and: FixtureLoadingTest).
 */
export function readFixture(node: XmlNode, where: XmlPosition): FixtureRecord | null {
  const id = node.attributes.id;
  if (id === undefined || id === '') throw new XmlError('fixture-invalid', '<fixture> has no id', where);
  const root = node.children[0];
  if (root === undefined) return null;
  return { id, userId: node.attributes.user_id ?? '', indexed: node.attributes.indexed === 'true', root };
}

function quantity(raw: string | undefined, where: XmlPosition): number {
  const q = raw === undefined ? Number.NaN : Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(q))
    throw new XmlError('xml-invalid', `Ledger entry has an invalid quantity ${JSON.stringify(raw)}`, where);
  return q;
}

/**
 * Ledger `<balance>` (core: org/commcare/xml/LedgerXmlParsers.java). Either the section is
 * an attribute of the balance and entries carry `quantity`, or entries hold one
 * `<value section-id quantity>` per section. Returns one balance per section.
 */
export function readBalance(node: XmlNode, where: XmlPosition): LedgerBalance[] {
  const entityId = node.attributes['entity-id'];
  if (entityId === undefined || entityId === '')
    throw new XmlError('xml-invalid', 'Ledger <balance> has no entity-id', where);
  const date = node.attributes.date ?? '';
  const section = node.attributes['section-id'];
  const bySection = new Map<string, LedgerBalance>();
  const get = (s: string): LedgerBalance => {
    let b = bySection.get(s);
    if (b === undefined) {
      b = { entityId, sectionId: s, date, entries: [] };
      bySection.set(s, b);
    }
    return b;
  };
  for (const e of node.children) {
    if (e.name !== 'entry') continue;
    const id = e.attributes.id;
    if (id === undefined || id === '') throw new XmlError('xml-invalid', 'Ledger <entry> has no id', where);
    if (section !== undefined)
      get(section).entries.push({ id, quantity: quantity(e.attributes.quantity, where) });
    else
      for (const v of e.children) {
        const s = v.attributes['section-id'];
        if (v.name !== 'value' || s === undefined) continue;
        get(s).entries.push({ id, quantity: quantity(v.attributes.quantity, where) });
      }
  }
  if (section !== undefined && !bySection.has(section)) get(section);
  return [...bySection.values()];
}
