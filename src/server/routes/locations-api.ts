import type { Hono } from 'hono';
import type { Ctx, Env, Hq } from '../context.ts';
import { exportUser } from '../export/export-auth.ts';
import { ApiInputError, paginated, readPage } from './api-helpers.ts';

/**
 * The v0.5 `location/` and `location_type/` resources (hq:corehq/apps/locations/resources/
 * v0_5.py): tastypie model resources behind `edit_locations` (a domain admin here),
 * `location/` keyed by `location_id` and filterable on `site_code` (exact), `location_type/`
 * by its integer id. The emulator stores a location's type by name, so a type's id is the
 * row number of its first location and its parent type is the type of that location's
 * parent; `code` is the name as a slug. Fields the emulator does not keep
 * (`external_id`, coordinates, timestamps) are null.
 */

interface LocationRow {
  rowid: number;
  id: string;
  domain: string;
  name: string;
  location_type: string;
  site_code: string;
  parent_id: string | null;
  shares_cases: number;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

export function registerLocationsApi(app: Hono<Env>, hq: Hq): void {
  const uri = (domain: string, resource: string, id: string | number) =>
    `/a/${domain}/api/v0.5/${resource}/${id}/`;
  const all = (domain: string) =>
    hq.db
      .prepare('SELECT rowid, * FROM locations WHERE domain = ? ORDER BY rowid')
      .all(domain) as LocationRow[];
  const types = (domain: string) => {
    const rows = all(domain);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      if (out.has(r.location_type)) continue;
      const parent = r.parent_id ? byId.get(r.parent_id) : undefined;
      out.set(r.location_type, {
        firstRow: r.rowid,
        parentName: parent?.location_type ?? null,
        shares: r.shares_cases,
      });
    }
    const idOf = (name: string) => out.get(name)?.firstRow as number | undefined;
    return [...out.entries()].map(([name, t]) => {
      const parentId = t.parentName === null ? undefined : idOf(t.parentName as string);
      return {
        id: t.firstRow as number,
        domain,
        name,
        code: slug(name),
        parent_type: parentId === undefined ? null : uri(domain, 'location_type', parentId),
        administrative: false,
        shares_cases: t.shares === 1,
        view_descendants: false,
        resource_uri: uri(domain, 'location_type', t.firstRow as number),
      };
    });
  };
  const locationJson = (
    domain: string,
    r: LocationRow,
    rows: LocationRow[],
    typeIds: Map<string, number>,
  ) => ({
    id: r.rowid,
    name: r.name,
    domain,
    location_id: r.id,
    site_code: r.site_code,
    external_id: null,
    created_at: null,
    last_modified: null,
    latitude: null,
    longitude: null,
    location_data: {},
    location_type: uri(domain, 'location_type', typeIds.get(r.location_type) ?? 0),
    parent:
      r.parent_id && rows.some((p) => p.id === r.parent_id) ? uri(domain, 'location', r.parent_id) : null,
    resource_uri: uri(domain, 'location', r.id),
  });

  const on = (path: string, handler: (c: Ctx, domain: string) => Response) => {
    for (const p of [`/a/:domain/api/v0.5/${path}`])
      app.get(p, (c) => {
        const domain = c.req.param('domain') ?? '';
        const user = exportUser(hq, c, domain);
        if (user instanceof Response) return user;
        try {
          return handler(c, domain);
        } catch (e) {
          if (e instanceof ApiInputError) return c.json({ error: e.message }, 400);
          throw e;
        }
      });
  };
  const typeIdMap = (domain: string) => new Map(types(domain).map((t) => [t.name, t.id]));

  on('location/', (c, domain) => {
    const page = readPage(c, 1000);
    const rows = all(domain);
    const site = c.req.query('site_code');
    const external = c.req.query('external_id');
    // No location has an external id here, so filtering on one leaves none.
    const matching = rows.filter(
      (r) => (site === undefined || r.site_code === site) && external === undefined,
    );
    const ids = typeIdMap(domain);
    return paginated(
      c,
      page,
      matching.length,
      matching.slice(page.offset, page.offset + page.limit).map((r) => locationJson(domain, r, rows, ids)),
    );
  });
  on('location/:location_id/', (c, domain) => {
    const rows = all(domain);
    const r = rows.find((x) => x.id === c.req.param('location_id'));
    return r ? c.json(locationJson(domain, r, rows, typeIdMap(domain))) : c.body(null, 404);
  });
  on('location_type/', (c, domain) => {
    const page = readPage(c, 1000);
    const list = types(domain);
    return paginated(c, page, list.length, list.slice(page.offset, page.offset + page.limit));
  });
  on('location_type/:id/', (c, domain) => {
    const t = types(domain).find((x) => String(x.id) === c.req.param('id'));
    return t ? c.json(t) : c.body(null, 404);
  });
}
