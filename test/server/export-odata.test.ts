import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, multipart } from './helpers.ts';

const KEY = 'ApiKey admin@example.com:fieldsim-demo-key';
const XMLNS = 'http://fieldsim.dev/test/export';
let emu: StartedEmulator;
let w1: string;

async function submit(i: number): Promise<void> {
  const xml = caseForm({
    instanceId: `export-form-${i}`,
    caseId: `export-case-${i}`,
    xmlns: XMLNS,
    userId: w1,
    body: `<create><case_type>exported</case_type><case_name>E ${i}</case_name><owner_id>${w1}</owner_id></create><update><score>${i}</score></update>`,
  });
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    headers: { authorization: basic('worker1') },
    body: multipart(xml),
  });
  expect(res.status).toBe(201);
}

const get = (path: string, auth: string | null = KEY, headers: Record<string, string> = {}) =>
  fetch(path.startsWith('http') ? path : `${emu.url}${path}`, {
    headers: { ...(auth ? { authorization: auth } : {}), ...headers },
  });

beforeAll(async () => {
  emu = await startEmulator();
  w1 = (
    emu.app.db.prepare("SELECT id FROM users WHERE username = 'worker1@demo.commcarehq.org'").get() as {
      id: string;
    }
  ).id;
  for (let i = 0; i < 25; i++) await submit(i);
});
afterAll(async () => {
  await emu.close();
});

interface Feed {
  '@odata.context': string;
  '@odata.nextLink'?: string;
  value: Record<string, string | null>[];
}

async function formConfig(): Promise<string> {
  const list = (await (await get('/a/demo/api/v0.5/odata/forms/')).json()) as {
    value: { id: string; tag: string }[];
  };
  const c = list.value.find((x) => x.tag === XMLNS);
  expect(c).toBeDefined();
  return c!.id;
}

describe('OData feeds', () => {
  it('serves a service document, CSDL $metadata and a feed an OData client can follow', async () => {
    const id = await formConfig();
    const svc = await get(`/a/demo/api/v0.5/odata/forms/${id}/`);
    expect(svc.status).toBe(200);
    expect(svc.headers.get('odata-version')).toBe('4.0');
    const doc = (await svc.json()) as { '@odata.context': string; value: unknown[] };
    expect(doc['@odata.context']).toBe(`${emu.url}/a/demo/api/v0.5/odata/forms/${id}/$metadata`);
    expect(doc.value).toEqual([{ name: 'feed', kind: 'EntitySet', url: 'feed' }]);

    const meta = await get(`/a/demo/api/v0.5/odata/forms/${id}/$metadata`);
    expect(meta.headers.get('content-type')).toMatch(/application\/xml/);
    const xml = await meta.text();
    expect(xml).toContain('<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">');
    expect(xml).toContain('<EntitySet Name="feed" EntityType="CommCare.feed"/>');
    expect(xml).toContain('<PropertyRef Name="formid"/>');
    expect(xml).toContain('<Property Name="form_meta_userID" Type="Edm.String"/>');
    const names = [...xml.matchAll(/<Property Name="([^"]+)"/g)].map((m) => m[1]!);
    expect(names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))).toBe(true);

    // A client reading with a page size of 10 follows @odata.nextLink to the end.
    const ids: string[] = [];
    let url: string | undefined = `${emu.url}/a/demo/api/v0.5/odata/forms/${id}/feed`;
    let pages = 0;
    while (url) {
      const res = await get(url, KEY, { Prefer: 'odata.maxpagesize=10' });
      expect(res.status).toBe(200);
      expect(res.headers.get('preference-applied')).toBe('odata.maxpagesize=10');
      const feed = (await res.json()) as Feed;
      expect(feed['@odata.context']).toMatch(/\$metadata#feed$/);
      for (const row of feed.value) {
        expect(Object.keys(row).sort()).toEqual([...names].sort());
        ids.push(row.formid!);
      }
      url = feed['@odata.nextLink'];
      pages++;
    }
    expect(pages).toBe(3);
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
  });

  it('honours $top and $skip', async () => {
    const id = await formConfig();
    const feed = (await (await get(`/a/demo/api/v0.5/odata/forms/${id}/feed?$top=5&$skip=2`)).json()) as Feed;
    expect(feed.value.map((r) => r.formid)).toEqual([2, 3, 4, 5, 6].map((i) => `export-form-${i}`));
    expect(feed['@odata.nextLink']).toBeUndefined();
    expect((await get(`/a/demo/api/v0.5/odata/forms/${id}/feed?$top=x`)).status).toBe(400);
  });

  it('feeds the cases of a type with their properties', async () => {
    const feed = (await (await get('/a/demo/api/v0.5/odata/cases/case-exported/feed')).json()) as Feed;
    expect(feed.value).toHaveLength(25);
    expect(feed.value[0]).toMatchObject({
      case_type: 'exported',
      case_name: 'E 0',
      score: '0',
      closed: 'False',
    });
    const missing = await get('/a/demo/api/v0.5/odata/cases/case-nothing/feed');
    expect(missing.status).toBe(404);
  });

  it('answers 401 without credentials, 403 to mobile workers and to other domains', async () => {
    const id = await formConfig();
    const anon = await get(`/a/demo/api/v0.5/odata/forms/${id}/feed`, null);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await get(`/a/demo/api/v0.5/odata/forms/${id}/feed`, basic('worker1'))).status).toBe(403);
    expect((await get(`/a/other/api/v0.5/odata/forms/${id}/feed`)).status).toBe(403);
    expect((await get(`/a/other/reports/export/?export_tag="${XMLNS}"&format=json`)).status).toBe(403);
    expect(
      (await get(`/a/demo/reports/export/?export_tag="${XMLNS}"&format=json`, basic('worker1'))).status,
    ).toBe(403);
  });
});

describe('Export API', () => {
  const url = (format: string, previous?: string) =>
    `/a/demo/reports/export/?export_tag=${encodeURIComponent(JSON.stringify(XMLNS))}&format=${format}${
      previous ? `&previous_export=${previous}` : ''
    }`;

  it('exports JSON with a token, and only newer forms with previous_export', async () => {
    const first = await get(url('json'));
    expect(first.status).toBe(200);
    const token = first.headers.get('x-commcarehq-export-token');
    expect(token).toBeTruthy();
    const body = (await first.json()) as { '#': { headers: string[]; rows: string[][] } };
    expect(body['#'].headers.slice(0, 2)).toEqual(['formid', 'received_on']);
    expect(body['#'].rows).toHaveLength(25);

    const none = await get(url('json', token!));
    expect(((await none.json()) as typeof body)['#'].rows).toHaveLength(0);
    expect(none.headers.get('x-commcarehq-export-token')).toBe(token);

    await submit(100);
    const inc = await get(url('json', token!));
    const incBody = (await inc.json()) as typeof body;
    expect(incBody['#'].rows.map((r) => r[0])).toEqual(['export-form-100']);
    expect(inc.headers.get('x-commcarehq-export-token')).not.toBe(token);
    expect((await get(url('json', 'garbage'))).status).toBe(400);
  });

  it('exports CSV and XLSX', async () => {
    const csv = await (await get(url('csv'))).text();
    const lines = csv.trim().split('\n');
    expect(lines[0]!.startsWith('formid,received_on')).toBe(true);
    expect(lines).toHaveLength(27);
    const xlsx = await get(url('xlsx'));
    expect(xlsx.headers.get('content-type')).toMatch(/spreadsheetml/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await xlsx.arrayBuffer());
    const sheet = wb.worksheets[0]!;
    expect(sheet.rowCount).toBe(27);
    expect(sheet.getRow(1).getCell(1).value).toBe('formid');
    expect((await get('/a/demo/reports/export/?format=json')).status).toBe(400);
    expect((await get(url('pdf'))).status).toBe(400);
  });
});

describe('location and location_type resources', () => {
  it('lists locations with their type and parent, and location types with their parent type', async () => {
    const db = emu.app.db;
    const clinic = db
      .prepare("SELECT id FROM locations WHERE domain = 'demo' AND site_code = 'riverside_clinic'")
      .pluck()
      .get() as string;
    db.prepare(
      "INSERT INTO locations (id, domain, name, location_type, site_code, parent_id, shares_cases) VALUES ('ward1', 'demo', 'Ward 1', 'Ward', 'ward_1', ?, 1)",
    ).run(clinic);
    const page = (await (await get('/a/demo/api/v0.5/location/')).json()) as {
      meta: { total_count: number };
      objects: Record<string, unknown>[];
    };
    expect(page.meta.total_count).toBe(2);
    const ward = page.objects.find((o) => o.location_id === 'ward1')!;
    expect(ward).toMatchObject({
      name: 'Ward 1',
      domain: 'demo',
      site_code: 'ward_1',
      parent: `/a/demo/api/v0.5/location/${clinic}/`,
      resource_uri: '/a/demo/api/v0.5/location/ward1/',
    });
    const one = (await (await get('/a/demo/api/v0.5/location/ward1/')).json()) as Record<string, unknown>;
    expect(one.location_type).toBe(ward.location_type);
    const bySite = (await (await get('/a/demo/api/v0.5/location/?site_code=ward_1')).json()) as typeof page;
    expect(bySite.objects.map((o) => o.location_id)).toEqual(['ward1']);

    const typeUri = String(ward.location_type);
    const type = (await (await get(typeUri)).json()) as Record<string, unknown>;
    expect(type).toMatchObject({ name: 'Ward', code: 'ward', shares_cases: true, resource_uri: typeUri });
    const types = (await (await get('/a/demo/api/v0.5/location_type/')).json()) as typeof page;
    const clinicType = types.objects.find((t) => t.name === 'clinic')!;
    expect(type.parent_type).toBe(clinicType.resource_uri);
    expect((await get('/a/demo/api/v0.5/location/nope/')).status).toBe(404);
    expect((await get('/a/demo/api/v0.5/location/', basic('worker1'))).status).toBe(403);
    expect((await get('/a/other/api/v0.5/location_type/')).status).toBe(403);
  });
});
