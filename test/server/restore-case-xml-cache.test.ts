import { describe, expect, it } from 'vitest';
import { getUserByUsername, ownerIds } from '../../src/server/db/users.ts';
import { CASE_XML_FORMAT } from '../../src/server/restore/case-xml-cache.ts';
import { planRestore } from '../../src/server/restore/generate.ts';
import { caseStateHash } from '../../src/server/restore/state-hash.ts';
import { basic, CASE_NS, demoEmulator, multipart } from './helpers.ts';

const fx = demoEmulator();

async function restore(query = ''): Promise<string> {
  const res = await fetch(`${fx.emu.url}/a/demo/phone/restore/${query}`, {
    headers: { authorization: basic('worker1') },
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** Each `<case>` block of a payload, by case id, as the bytes sent. */
function blocks(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.matchAll(/<case xmlns="[^"]+" case_id="([^"]+)"[\s\S]*?<\/case>/g))
    out.set(m[1]!, m[0]);
  return out;
}

function keptCount(): number {
  return (fx.emu.app.db.prepare('SELECT COUNT(*) AS n FROM case_restore_xml').get() as { n: number }).n;
}

function rowidOf(caseId: string): number {
  return (
    fx.emu.app.db.prepare('SELECT rowid AS r FROM cases WHERE case_id = ?').get(caseId) as { r: number }
  ).r;
}

function kept(caseId: string): string | undefined {
  return (
    fx.emu.app.db.prepare('SELECT xml FROM case_restore_xml WHERE case_rowid = ?').get(rowidOf(caseId)) as
      | { xml: string }
      | undefined
  )?.xml;
}

async function submit(id: string, caseXml: string): Promise<void> {
  const form = `<data xmlns="http://fieldsim.dev/test/cache">${caseXml}<meta><instanceID>${id}</instanceID></meta></data>`;
  const res = await fetch(`${fx.emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: { authorization: basic('worker2'), 'X-OpenRosa-Version': '3.0' },
  });
  expect(res.status).toBe(201);
}

describe('restore case blocks kept per case version', () => {
  let first: Map<string, string>;
  let someCase: string;

  it('keeps the blocks of a full restore and sends the same bytes from them next time', async () => {
    expect(keptCount()).toBe(0);
    const body1 = await restore();
    first = blocks(body1);
    expect(first.size).toBeGreaterThan(10);
    expect(keptCount()).toBe(first.size);
    someCase = [...first.keys()][0]!;
    expect(kept(someCase)).toBe(first.get(someCase));
    // A kept block is what the next restore sends: mark one so it is seen to come from the table.
    const body2 = await restore();
    expect(body2.replace(/<restore_id>\w+<\/restore_id>/, '')).toBe(
      body1.replace(/<restore_id>\w+<\/restore_id>/, ''),
    );
    fx.emu.app.db
      .prepare('UPDATE case_restore_xml SET xml = ? WHERE case_rowid = ?')
      .run(first.get(someCase)!.replace('</case>', '<!--kept--></case>'), rowidOf(someCase));
    expect(blocks(await restore()).get(someCase)).toContain('<!--kept-->');
  });

  it('drops a block when a form changes its case, and sends the new state', async () => {
    await submit(
      'cache-form-1',
      `<case xmlns="${CASE_NS}" case_id="${someCase}" date_modified="2026-06-01T00:00:00Z" user_id="${fx.w1}"><update><cache_probe>v2</cache_probe></update></case>`,
    );
    expect(kept(someCase)).toBeUndefined();
    const b = blocks(await restore()).get(someCase)!;
    expect(b).toContain('<cache_probe>v2</cache_probe>');
    expect(b).not.toContain('<!--kept-->');
    expect(kept(someCase)).toBe(b);
  });

  it('drops a block on any write of the row: UPDATE, INSERT OR REPLACE, DELETE', async () => {
    const db = fx.emu.app.db;
    const ids = [...first.keys()];
    const [a, b, c] = [ids[1]!, ids[2]!, ids[3]!];
    await restore();
    for (const id of [a, b, c]) expect(kept(id)).toBeDefined();
    db.prepare("UPDATE cases SET name = 'Renamed by SQL' WHERE case_id = ?").run(a);
    expect(kept(a)).toBeUndefined();
    const rowB = rowidOf(b);
    const row = db.prepare('SELECT * FROM cases WHERE case_id = ?').get(b) as Record<string, unknown>;
    const cols = Object.keys(row);
    db.prepare(
      `INSERT OR REPLACE INTO cases (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
    ).run(...cols.map((k) => (k === 'name' ? 'Replaced by SQL' : row[k])));
    // The replacing row has no block; a block left at the replaced rowid names no case
    // (and the next row to take that rowid clears it).
    expect(kept(b)).toBeUndefined();
    if (rowidOf(b) !== rowB)
      expect(db.prepare('SELECT 1 FROM cases WHERE rowid = ?').get(rowB)).toBeUndefined();
    const rowC = rowidOf(c);
    db.prepare('DELETE FROM cases WHERE case_id = ?').run(c);
    expect(db.prepare('SELECT 1 FROM case_restore_xml WHERE case_rowid = ?').get(rowC)).toBeUndefined();
    const now = blocks(await restore());
    expect(now.get(a)).toContain('<case_name>Renamed by SQL</case_name>');
    expect(now.get(b)).toContain('<case_name>Replaced by SQL</case_name>');
    expect(now.has(c)).toBe(false);
  });

  it('ignores a block of another writer format', async () => {
    const id = [...first.keys()][4]!;
    await restore();
    fx.emu.app.db
      .prepare('UPDATE case_restore_xml SET format = ?, xml = ? WHERE case_rowid = ?')
      .run(CASE_XML_FORMAT + 1, '<case>stale</case>', rowidOf(id));
    const b = blocks(await restore()).get(id)!;
    expect(b).toBe(first.get(id));
    expect(
      fx.emu.app.db.prepare('SELECT format FROM case_restore_xml WHERE case_rowid = ?').get(rowidOf(id)),
    ).toEqual({ format: CASE_XML_FORMAT });
  });

  it('sends an update block, not the kept create block, for a case already on the phone', async () => {
    const body = await restore();
    const token = /<restore_id>(\w+)<\/restore_id>/.exec(body)![1]!;
    const onPhone = [...blocks(body).keys()];
    const id = onPhone[5]!;
    expect(kept(id)).toContain('<create>');
    // Another user's change makes it part of the incremental restore; keep its new block
    // as a create block first (the full restore below), then sync incrementally.
    await submit(
      'cache-form-2',
      `<case xmlns="${CASE_NS}" case_id="${id}" date_modified="2026-06-02T00:00:00Z" user_id="${fx.w1}"><update><cache_probe>v3</cache_probe></update></case>`,
    );
    const db = fx.emu.app.db;
    const user = getUserByUsername(db, 'worker1@demo.commcarehq.org')!;
    const full = planRestore(
      db,
      { domain: 'demo', user, since: undefined, skipFixtures: false, deviceId: 'x', appId: '' },
      ownerIds(db, user),
    );
    for (const _ of full.chunks(false));
    expect(kept(id)).toContain('<cache_probe>v3</cache_probe>');
    const inc = await restore(`?since=${token}&state=ccsh:${caseStateHash(onPhone)}`);
    const b = blocks(inc).get(id)!;
    expect(b).toContain('<cache_probe>v3</cache_probe>');
    expect(b).not.toContain('<create>');
    expect(b).toContain('<case_type>');
  });

  it('writes a case whose property is not an XML name through the general path, unkept', async () => {
    const id = [...first.keys()][6]!;
    fx.emu.app.db
      .prepare(`UPDATE cases SET properties = json_set(properties, '$."bad name"', 'x') WHERE case_id = ?`)
      .run(id);
    const b = blocks(await restore()).get(id)!;
    expect(b).not.toContain('bad name');
    expect(b).toContain('<create>');
    expect(kept(id)).toBeUndefined();
  });
});
