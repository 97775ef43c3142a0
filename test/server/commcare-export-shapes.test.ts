import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HqApiClient } from '../../src/core/api/hq-api-client.ts';
import { openDatabase } from '../../src/server/db/database.ts';
import { seedSyntheticCases } from '../../src/server/seed/synthetic.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, multipart } from './helpers.ts';

/**
 * The requests Dimagi's commcare-export makes (commcare_export/commcare_hq_client.py
 * `iterate`, commcare_minilinq.py `DatePaginator`), replayed against the emulator: pages of
 * `limit=1000`, `order_by=indexed_on`, and each next page asked with
 * `indexed_on_start=<the last object's indexed_on, as Python's isoformat() writes it>`;
 * objects already seen in the previous batch are skipped, and ten identical requests in a
 * row are an error (`RESOURCE_REPEAT_LIMIT`).
 */

// commcare-export authenticates with `apikey user:key` (lower-case scheme).
const KEY = 'apikey admin@example.com:fieldsim-demo-key';
let emu: StartedEmulator;
let w1: string;

beforeAll(async () => {
  emu = await startEmulator();
  w1 = (
    emu.app.db.prepare("SELECT id FROM users WHERE username = 'worker1@demo.commcarehq.org'").get() as {
      id: string;
    }
  ).id;
});
afterAll(async () => {
  await emu.close();
});

interface Batch {
  meta: { limit: number; next: string | null; total_count: number };
  objects: { id: string; indexed_on: string; [k: string]: unknown }[];
}

async function get(resource: string, params: Record<string, string>, auth = KEY): Promise<Response> {
  const q = new URLSearchParams(params);
  return fetch(`${emu.url}/a/demo/api/v0.5/${resource}/?${q}`, { headers: { authorization: auth } });
}

/** `parse(since, ignoretz=True).isoformat()`: naive, `.ffffff` only when non-zero. */
function pythonIsoformat(stamp: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?/.exec(stamp);
  if (!m) throw new Error(`unparseable ${stamp}`);
  const us = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return us === '000000' ? m[1]! : `${m[1]}.${us}`;
}

/** commcare-export's `iterate_resource` with a DatePaginator on `indexed_on`. */
async function exportLike(resource: string, payload: Record<string, string> = {}, pageSize = 1000) {
  let params: Record<string, string> = { ...payload, limit: String(pageSize), order_by: 'indexed_on' };
  const seen: string[] = [];
  const requests: string[] = [];
  let lastIds = new Set<string>();
  let lastParams = '';
  let repeats = 0;
  for (;;) {
    const key = JSON.stringify(params);
    repeats = key === lastParams ? repeats + 1 : 0;
    if (repeats >= 10)
      throw new Error(`Requested resource '${resource}' ${repeats} times with same parameters`);
    lastParams = key;
    requests.push(key);
    const res = await get(resource, params);
    expect(res.status).toBe(200);
    const batch = (await res.json()) as Batch;
    if (batch.objects.length === 0) break;
    for (const o of batch.objects) if (!lastIds.has(o.id)) seen.push(o.id);
    if (!batch.meta.next) break;
    lastIds = new Set(batch.objects.map((o) => o.id));
    const since = pythonIsoformat(batch.objects.at(-1)!.indexed_on);
    params = { ...payload, limit: String(pageSize), indexed_on_start: since, order_by: 'indexed_on' };
  }
  return { seen, requests };
}

/** Inserts `n` forms in one transaction, as a bulk import would: one server time for all. */
function bulkForms(n: number, xmlns: string): void {
  const db = emu.app.db;
  const now = new Date().toISOString();
  const insert = db.prepare(
    `INSERT INTO forms (form_id, domain, state, xmlns, xml, md5, received_on, server_modified_on, user_id, seq)
     VALUES (?, 'demo', 'normal', ?, ?, '', ?, ?, ?, 0)`,
  );
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = `bulk-${xmlns.length}-${i}`;
      insert.run(id, xmlns, `<data xmlns="${xmlns}"><n>${i}</n></data>`, now, now, w1);
    }
  })();
}

describe('indexed_on stamps', () => {
  it('gives every form of one transaction its own, strictly increasing stamp with microseconds', () => {
    bulkForms(10_000, 'http://fieldsim.dev/test/bulk');
    const rows = emu.app.db
      .prepare("SELECT indexed_on FROM forms WHERE xmlns = 'http://fieldsim.dev/test/bulk' ORDER BY rowid")
      .pluck()
      .all() as string[];
    expect(rows).toHaveLength(10_000);
    expect(rows.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(r))).toBe(true);
    for (let i = 1; i < rows.length; i++) expect(rows[i]! > rows[i - 1]!).toBe(true);
  });

  it('gives seeded cases and the cases of one multi-case form distinct stamps', async () => {
    seedSyntheticCases(emu.app.db, { domain: 'demo', ownerId: w1, count: 3000 });
    const blocks = Array.from(
      { length: 20 },
      (_, i) =>
        `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="multi-${i}" date_modified="2026-01-01T10:00:00Z" user_id="${w1}"><create><case_type>multi</case_type><case_name>m${i}</case_name><owner_id>${w1}</owner_id></create></case>`,
    ).join('');
    const xml = `<data xmlns="http://fieldsim.dev/test/multi">${blocks}<meta xmlns="http://openrosa.org/jr/xforms"><instanceID>multi-form</instanceID><userID>${w1}</userID></meta></data>`;
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      headers: { authorization: basic('worker1') },
      body: multipart(xml),
    });
    expect(res.status).toBe(201);
    const dupes = emu.app.db
      .prepare('SELECT indexed_on, COUNT(*) AS n FROM cases GROUP BY indexed_on HAVING n > 1')
      .all();
    expect(dupes).toEqual([]);
  });

  it('stamps a form inserted first thing on a reopened database (the trigger cannot read the clock then)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-idx-'));
    openDatabase(dir).close();
    const db = openDatabase(dir);
    db.prepare(
      `INSERT INTO forms (form_id, domain, state, xmlns, xml, md5, received_on, server_modified_on, seq)
       VALUES ('first', 'd', 'normal', 'x', '<x/>', '', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 0)`,
    ).run();
    expect(db.prepare("SELECT indexed_on FROM forms WHERE form_id = 'first'").pluck().get()).toMatch(
      /\.\d{6}Z$/,
    );
    db.close();
  });

  it('spreads out the duplicate stamps of a database from before, once, when it is opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-idx-'));
    const db = openDatabase(dir);
    seedSyntheticCases(db, { domain: 'd', ownerId: 'o', count: 50 });
    db.exec(
      "UPDATE cases SET indexed_on = '2026-01-01T00:00:00.000Z'; DELETE FROM meta WHERE key = 'indexed-on-unique'",
    );
    db.close();
    const reopened = openDatabase(dir);
    const stamps = reopened
      .prepare('SELECT indexed_on FROM cases ORDER BY indexed_on')
      .pluck()
      .all() as string[];
    expect(new Set(stamps).size).toBe(50);
    expect(stamps[0]).toBe('2026-01-01T00:00:00.000000Z');
    reopened.close();
  });
});

describe("commcare-export's paging by indexed_on", () => {
  it('pages 10,000 forms by indexed_on: every form once, no repeated request', async () => {
    const { seen, requests } = await exportLike('form', { 'xmlns.exact': 'http://fieldsim.dev/test/bulk' });
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect(new Set(requests).size).toBe(requests.length);
    // 1000 per page, each next page starting at the previous last form: 11 requests.
    expect(requests.length).toBe(11);
  }, 60_000);

  it('pages the cases of one owner and type', async () => {
    const { seen } = await exportLike('case', { type: 'household', owner_id: w1 });
    const expected = (
      emu.app.db
        .prepare(
          "SELECT COUNT(*) AS n FROM cases WHERE domain = 'demo' AND case_type = 'household' AND owner_id = ?",
        )
        .get(w1) as { n: number }
    ).n;
    expect(expected).toBeGreaterThan(750);
    expect(new Set(seen).size).toBe(expected);
  }, 60_000);

  it("accepts the date_modified mode's _search filter (server_modified_on, else received_on)", async () => {
    const range = { gte: '2000-01-01T00:00:00' };
    const missing = { missing: { field: 'server_modified_on', null_value: true, existence: true } };
    const search = JSON.stringify({
      filter: {
        or: [
          { and: [{ not: missing }, { range: { server_modified_on: range } }] },
          { and: [missing, { range: { received_on: range } }] },
        ],
      },
    });
    const res = await get('form', {
      'xmlns.exact': 'http://fieldsim.dev/test/bulk',
      limit: '1',
      order_by: 'server_modified_on',
      _search: search,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Batch).meta.total_count).toBe(10_000);
    const future = search.replace('2000-01-01', '2999-01-01');
    const none = await get('form', { 'xmlns.exact': 'http://fieldsim.dev/test/bulk', _search: future });
    expect(((await none.json()) as Batch).meta.total_count).toBe(0);
    const bad = await get('form', { _search: '{"filter": {"script": {}}}' });
    expect(bad.status).toBe(400);
  });
});

describe('list filters as HQ applies them', () => {
  const count = async (resource: string, params: Record<string, string>) => {
    const res = await get(resource, { ...params, limit: '1' });
    expect(res.status, JSON.stringify(params)).toBe(200);
    return ((await res.json()) as Batch).meta.total_count;
  };

  it('treats an unknown parameter as a term on a field no document has: nothing matches', async () => {
    expect(await count('form', {})).toBeGreaterThan(10_000);
    expect(await count('form', { no_such_field: 'x' })).toBe(0);
    expect(await count('case', { no_such_field: 'x' })).toBe(0);
  });

  it('filters cases on type.exact, name.exact, case_name, case_type, owner and user', async () => {
    const all = await count('case', {});
    const households = await count('case', { 'type.exact': 'household', owner_id: w1 });
    expect(households).toBeGreaterThan(0);
    expect(households).toBeLessThan(all);
    expect(await count('case', { 'type.exact': 'Household' })).toBe(0);
    expect(await count('case', { case_type: 'HOUSEHOLD', owner_id: w1 })).toBe(households);
    expect(await count('case', { 'name.exact': 'm3' })).toBe(1);
    expect(await count('case', { case_name: 'M3' })).toBe(1);
    expect(await count('case', { user_id: w1, 'type.exact': 'multi' })).toBe(20);
  });

  it('filters forms on received_on, server_modified_on and indexed_on ranges and orders on them', async () => {
    const first = (await (
      await get('form', {
        'xmlns.exact': 'http://fieldsim.dev/test/bulk',
        order_by: 'indexed_on',
        limit: '3',
      })
    ).json()) as Batch;
    const third = pythonIsoformat(first.objects[2]!.indexed_on);
    expect(
      await count('form', { 'xmlns.exact': 'http://fieldsim.dev/test/bulk', indexed_on_start: third }),
    ).toBe(9_998);
    expect(
      await count('form', { 'xmlns.exact': 'http://fieldsim.dev/test/bulk', indexed_on_end: third }),
    ).toBe(3);
    expect(await count('form', { received_on_start: '2999-01-01' })).toBe(0);
    expect(await count('form', { server_modified_on_end: '2000-01-01' })).toBe(0);
    const desc = (await (
      await get('form', {
        'xmlns.exact': 'http://fieldsim.dev/test/bulk',
        order_by: '-indexed_on',
        limit: '2',
      })
    ).json()) as Batch;
    expect(desc.objects[0]!.indexed_on > desc.objects[1]!.indexed_on).toBe(true);
    expect((await get('form', { indexed_on_start: 'yesterday' })).status).toBe(400);
  });

  it('answers 403 to a mobile worker and to a web user of another domain', async () => {
    expect((await get('form', {}, basic('worker1'))).status).toBe(403);
    const other = `Basic ${Buffer.from('admin@example.com:fieldsim').toString('base64')}`;
    const res = await fetch(`${emu.url}/a/elsewhere/api/v0.5/form/`, { headers: { authorization: other } });
    expect(res.status).toBe(403);
    const wrong = `Basic ${Buffer.from('admin@example.com:wrong').toString('base64')}`;
    expect(
      (await fetch(`${emu.url}/a/elsewhere/api/v0.5/form/`, { headers: { authorization: wrong } })).status,
    ).toBe(401);
  });
});

it('keeps the form JSON of a received form with its own indexed_on', async () => {
  const xml = caseForm({
    instanceId: 'idx-form-1',
    caseId: 'idx-case-1',
    body: '<update><x>1</x></update>',
    userId: w1,
  });
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    headers: { authorization: basic('worker1') },
    body: multipart(xml),
  });
  expect(res.status).toBe(201);
  const form = (await (await get('form/idx-form-1', {})).json()) as { indexed_on: string };
  expect(form.indexed_on).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
});

describe('HqApiClient.iterateByIndexedOn', () => {
  const client = () =>
    new HqApiClient({
      serverUrl: emu.url,
      domain: 'demo',
      auth: { kind: 'api-key', username: 'admin@example.com', key: 'fieldsim-demo-key' },
    });

  it('reads more than 1,000 forms page by page on indexed_on, each once, oldest index first', async () => {
    const urls: string[] = [];
    const api = new HqApiClient({
      serverUrl: emu.url,
      domain: 'demo',
      auth: { kind: 'api-key', username: 'admin@example.com', key: 'fieldsim-demo-key' },
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        urls.push(input instanceof Request ? input.url : String(input));
        return fetch(input, init);
      },
    });
    const stamps: string[] = [];
    const ids = new Set<string>();
    for await (const f of api.forms.iterateByIndexedOn({
      'xmlns.exact': 'http://fieldsim.dev/test/bulk',
      limit: 1000,
    })) {
      ids.add(f.id);
      stamps.push(f.indexed_on);
    }
    expect(ids.size).toBe(10_000);
    expect(stamps).toEqual([...stamps].sort());
    expect(urls.every((u) => !u.includes('offset='))).toBe(true);
    expect(urls.slice(1).every((u) => u.includes('indexed_on_start='))).toBe(true);
  }, 60_000);

  it('pages cases with filters', async () => {
    let n = 0;
    for await (const c of client().cases.iterateByIndexedOn({ 'type.exact': 'multi', limit: 7 })) {
      expect(c.properties.case_type).toBe('multi');
      n++;
    }
    expect(n).toBe(20);
  });

  it('stops with a bad-response error instead of looping when a page of objects shares one stamp', async () => {
    emu.app.db.exec(
      "UPDATE cases SET indexed_on = '2001-01-01T00:00:00.000000Z' WHERE case_type = 'multi' AND name IN ('m0', 'm1', 'm2')",
    );
    const walk = async () => {
      for await (const _ of client().cases.iterateByIndexedOn({ 'type.exact': 'multi', limit: 2 })) {
        // reading
      }
    };
    await expect(walk()).rejects.toMatchObject({ code: 'bad-response' });
  });
});
