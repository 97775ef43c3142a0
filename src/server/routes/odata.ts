import type { Hono } from 'hono';
import type { Ctx, Env, Hq } from '../context.ts';
import { exportUser } from '../export/export-auth.ts';
import { type ExportKind, exportConfigs, exportHeaders, exportPage, findConfig } from '../export/tables.ts';

/**
 * OData v4 feeds of forms and cases (hq:corehq/apps/api/odata): per export configuration a
 * service document at `.../odata/<forms|cases>/<config_id>/`, its CSDL at `.../$metadata`
 * and the rows at `.../feed`, JSON with `@odata.context`, a `value` array and an
 * `@odata.nextLink` while rows remain; every answer carries `OData-Version: 4.0`.
 * Server-driven paging uses `$skiptoken` (the last row's `indexed_on`), so a page never
 * shifts when forms arrive while a client reads; `$top` and `$skip` are honoured too.
 */

/** Rows per feed page unless the client asks for fewer (`Prefer: odata.maxpagesize`). */
export const ODATA_PAGE_SIZE = 1000;

const EDM = 'http://docs.oasis-open.org/odata/ns/edm';
const EDMX = 'http://docs.oasis-open.org/odata/ns/edmx';

/**
 * A column label as an OData property name (a SimpleIdentifier: a letter or `_`, then
 * letters, digits, `_`): HQ's labels such as `form.meta.userID` hold dots, which strict
 * clients refuse, so every other character becomes `_`.
 */
export function odataName(label: string): string {
  const s = label.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

function propertyNames(headers: string[]): string[] {
  const used = new Set<string>();
  return headers.map((h) => {
    let n = odataName(h);
    for (let i = 2; used.has(n); i++) n = `${odataName(h)}_${i}`;
    used.add(n);
    return n;
  });
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function metadataXml(headers: string[]): string {
  const names = propertyNames(headers);
  const props = names
    .map(
      (n, i) => `        <Property Name="${esc(n)}" Type="Edm.String"${i === 0 ? ' Nullable="false"' : ''}/>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="${EDMX}" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="${EDM}" Namespace="CommCare">
      <EntityType Name="feed">
        <Key><PropertyRef Name="${esc(names[0] ?? 'id')}"/></Key>
${props}
      </EntityType>
      <EntityContainer Name="Container">
        <EntitySet Name="feed" EntityType="CommCare.feed"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`;
}

const ODATA_JSON = 'application/json; odata.metadata=minimal; charset=utf-8';

function odataError(c: Ctx, status: 400 | 404, code: string, message: string): Response {
  return c.body(JSON.stringify({ error: { code, message } }), status, {
    'Content-Type': ODATA_JSON,
    'OData-Version': '4.0',
  });
}

function nonNegativeInt(v: string | undefined): number | undefined | null {
  if (v === undefined || v === '') return undefined;
  return /^\d+$/.test(v) ? Number(v) : null;
}

export function registerOData(app: Hono<Env>, hq: Hq): void {
  for (const kind of ['forms', 'cases'] as const) registerKind(app, hq, kind);
}

// One literal path per kind: a `{forms|cases}` pattern is not grouped by Hono's router, so its
// alternation would split the whole route.
function registerKind(app: Hono<Env>, hq: Hq, kind: ExportKind): void {
  const base = `/a/:domain/api/v0.5/odata/${kind}`;
  const guard = (c: Ctx) => {
    const domain = c.req.param('domain') ?? '';
    const user = exportUser(hq, c, domain);
    return user instanceof Response ? user : { domain, kind };
  };
  const root = (c: Ctx, domain: string, kind: string, id: string) =>
    `${new URL(c.req.url).origin}/a/${domain}/api/v0.5/odata/${kind}/${encodeURIComponent(id)}`;

  // The emulator's index of configurations (HQ lists them in its web UI instead).
  for (const p of [base, `${base}/`])
    app.get(p, (c) => {
      const g = guard(c);
      if (g instanceof Response) return g;
      return c.json(
        {
          value: exportConfigs(hq.db, g.domain, g.kind).map((x) => ({
            id: x.id,
            tag: x.tag,
            url: `${root(c, g.domain, g.kind, x.id)}/`,
          })),
        },
        200,
        { 'OData-Version': '4.0' },
      );
    });

  const handler = (c: Ctx, rest: string) => {
    const g = guard(c);
    if (g instanceof Response) return g;
    const id = c.req.param('id') ?? '';
    const config = findConfig(hq.db, g.domain, g.kind, id);
    if (!config) return odataError(c, 404, 'NotFound', `No ${g.kind} export configuration '${id}'`);
    const here = root(c, g.domain, g.kind, config.id);
    if (rest === '') {
      return c.body(
        JSON.stringify({
          '@odata.context': `${here}/$metadata`,
          value: [{ name: 'feed', kind: 'EntitySet', url: 'feed' }],
        }),
        200,
        { 'Content-Type': ODATA_JSON, 'OData-Version': '4.0' },
      );
    }
    if (rest === '$metadata') {
      return c.body(metadataXml(exportHeaders(hq.db, g.domain, config)), 200, {
        'Content-Type': 'application/xml; charset=utf-8',
        'OData-Version': '4.0',
      });
    }
    if (rest !== 'feed') return odataError(c, 404, 'NotFound', `No resource '${rest}'`);
    const top = nonNegativeInt(c.req.query('$top'));
    const skip = nonNegativeInt(c.req.query('$skip'));
    if (top === null || skip === null)
      return odataError(c, 400, 'BadRequest', '$top and $skip take a whole number');
    const preferred = /odata\.maxpagesize=(\d+)/.exec(c.req.header('prefer') ?? '')?.[1];
    const pageSize = Math.max(1, Math.min(ODATA_PAGE_SIZE, preferred ? Number(preferred) : ODATA_PAGE_SIZE));
    // `$top` bounds the whole answer; what is left of it travels in the next link.
    const limit = top === undefined ? pageSize : Math.min(top, pageSize);
    const token = c.req.query('$skiptoken');
    const headers = exportHeaders(hq.db, g.domain, config);
    const names = propertyNames(headers);
    const page = exportPage(hq.db, g.domain, config, { after: token, limit, skip: skip ?? 0, headers });
    const value = page.rows.map((r) =>
      Object.fromEntries(headers.map((h, i) => [names[i], r.values[h] ?? null])),
    );
    const body: Record<string, unknown> = { '@odata.context': `${here}/$metadata#feed`, value };
    const left = top === undefined ? undefined : top - page.rows.length;
    const last = page.rows.at(-1);
    if (page.more && last && (left === undefined || left > 0)) {
      const next = new URLSearchParams({ $skiptoken: last.indexedOn });
      if (left !== undefined) next.set('$top', String(left));
      body['@odata.nextLink'] = `${here}/feed?${next.toString()}`;
    }
    return c.body(JSON.stringify(body), 200, {
      'Content-Type': ODATA_JSON,
      'OData-Version': '4.0',
      ...(preferred ? { 'Preference-Applied': `odata.maxpagesize=${pageSize}` } : {}),
    });
  };
  app.get(`${base}/:id/`, (c) => handler(c, ''));
  app.get(`${base}/:id`, (c) => handler(c, ''));
  app.get(`${base}/:id/:rest`, (c) => handler(c, c.req.param('rest') ?? ''));
  app.get(`${base}/:id/:rest/`, (c) => handler(c, c.req.param('rest') ?? ''));
}
