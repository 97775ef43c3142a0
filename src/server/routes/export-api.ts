import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import type { Hono } from 'hono';
import type { Ctx, Env, Hq } from '../context.ts';
import { exportUser } from '../export/export-auth.ts';
import { type ExportRow, exportPage, findConfig } from '../export/tables.ts';

/**
 * HQ's Export API (`/a/<domain>/reports/export/`, couchexport's `export_data`): every
 * form of one xmlns as a table, `export_tag` naming the xmlns as a JSON string
 * (`export_tag="http://..."`), `format` json, csv or xlsx (default xlsx, as HQ). Each answer
 * carries `X-CommCareHQ-Export-Token`; passing it back as `previous_export` returns only
 * the forms indexed since, which is how HQ's incremental exports work. The token is the
 * last exported form's `indexed_on`, so it survives emulator restarts.
 *
 * JSON is couchexport's shape: `{"#": {"headers": [...], "rows": [[...], ...]}}`, `#`
 * being the name of the root table.
 */

export const EXPORT_TOKEN_HEADER = 'X-CommCareHQ-Export-Token';
const TABLE = '#';

/** `export_tag` as HQ reads it: JSON (`"xmlns"`), or the bare xmlns as a courtesy. */
function readTag(raw: string): string | null {
  const v = raw.trim();
  if (v.startsWith('"') || v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (typeof parsed === 'string') return parsed;
      // `["domain", "xmlns"]`, the list form couchexport also keys form exports by.
      if (Array.isArray(parsed) && typeof parsed.at(-1) === 'string') return parsed.at(-1) as string;
      return null;
    } catch {
      return null;
    }
  }
  return v === '' ? null : v;
}

const encodeToken = (stamp: string) => Buffer.from(stamp, 'utf8').toString('base64url');
function decodeToken(token: string): string | null {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(s) ? s : null;
}

function cells(headers: string[], rows: ExportRow[]): (string | null)[][] {
  return rows.map((r) => headers.map((h) => r.values[h] ?? null));
}

export function registerExportApi(app: Hono<Env>, hq: Hq): void {
  const handler = async (c: Ctx) => {
    const domain = c.req.param('domain') ?? '';
    const user = exportUser(hq, c, domain);
    if (user instanceof Response) return user;
    const rawTag = c.req.query('export_tag');
    if (rawTag === undefined) return c.text('export_tag is required', 400);
    const tag = readTag(rawTag);
    if (tag === null) return c.text(`export_tag is not a JSON string: ${rawTag}`, 400);
    const format = (c.req.query('format') ?? 'xlsx').toLowerCase();
    if (!['json', 'csv', 'xlsx'].includes(format))
      return c.text(`Unsupported format '${format}': use json, csv or xlsx`, 400);
    let after: string | undefined;
    const previous = c.req.query('previous_export');
    if (previous) {
      const stamp = decodeToken(previous);
      if (stamp === null) return c.text('previous_export is not a token this server gave', 400);
      after = stamp;
    }
    const config = findConfig(hq.db, domain, 'forms', tag);
    const page = config
      ? exportPage(hq.db, domain, config, { after, limit: Number.MAX_SAFE_INTEGER })
      : { headers: [], rows: [], more: false };
    const token = encodeToken(page.rows.at(-1)?.indexedOn ?? after ?? '0000-00-00T00:00:00.000000Z');
    const rows = cells(page.headers, page.rows);
    const common = { [EXPORT_TOKEN_HEADER]: token, 'Access-Control-Expose-Headers': EXPORT_TOKEN_HEADER };
    const filename = `export-${domain}`;
    if (format === 'json') return c.json({ [TABLE]: { headers: page.headers, rows } }, 200, common);
    if (format === 'csv')
      return c.body(stringify([page.headers, ...rows]), 200, {
        ...common,
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${filename}.csv"`,
      });
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet(TABLE);
    sheet.addRow(page.headers);
    for (const r of rows) sheet.addRow(r);
    const buf = await wb.xlsx.writeBuffer();
    return c.body(new Uint8Array(buf as ArrayBuffer), 200, {
      ...common,
      'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'Content-Disposition': `attachment; filename="${filename}.xlsx"`,
    });
  };
  app.get('/a/:domain/reports/export/', handler);
  app.get('/a/:domain/reports/export', handler);
}
