import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/** `fieldsim export forms|cases`, in process, against the emulator's OData feeds. */
const dir = mkdtempSync(join(tmpdir(), 'fieldsim-export-'));
const XMLNS = 'http://fieldsim.dev/test/cli-export';
let emu: StartedEmulator;

beforeAll(async () => {
  emu = await startEmulator();
  const db = emu.app.db;
  const insert = db.prepare(
    `INSERT INTO forms (form_id, domain, state, xmlns, xml, md5, received_on, server_modified_on, seq)
     VALUES (?, 'demo', 'normal', ?, ?, '', ?, ?, 0)`,
  );
  const now = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < 2500; i++)
      insert.run(
        `cli-${i}`,
        XMLNS,
        `<data xmlns="${XMLNS}"><q>${i}</q><g><r>"a, b"</r></g><meta><userID>u</userID></meta></data>`,
        now,
        now,
      );
  })();
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

const base = () => [
  'node',
  'fieldsim',
  'export',
  '--server',
  emu.url,
  '--domain',
  'demo',
  '--user',
  'admin@example.com',
  '--api-key',
  'fieldsim-demo-key',
  '-q',
];

describe('fieldsim export', () => {
  it('pulls 2,500 forms of an xmlns over three feed pages into CSV', async () => {
    const out = join(dir, 'forms.csv');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const status = await main([
      ...base().slice(0, 3),
      'forms',
      ...base().slice(3),
      '--xmlns',
      XMLNS,
      '--out',
      out,
      '--json',
    ]);
    expect(status).toBe(0);
    const summary = JSON.parse(String(log.mock.calls[0]?.[0])) as {
      rows: number;
      pages: number;
      format: string;
    };
    expect(summary).toMatchObject({ rows: 2500, pages: 3, format: 'csv' });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('formid,received_on,form_meta_userID,form_meta_username,form_q,form_g_r');
    expect(lines).toHaveLength(2501);
    expect(lines[1]).toMatch(/^cli-0,.*,u,,0,"""a, b"""$/);
  });

  it('writes XLSX and JSON, and honours --top', async () => {
    const xlsx = join(dir, 'forms.xlsx');
    expect(
      await main([
        'node',
        'fieldsim',
        'export',
        'forms',
        ...base().slice(3),
        '--xmlns',
        XMLNS,
        '--out',
        xlsx,
        '--top',
        '10',
      ]),
    ).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    expect(wb.worksheets[0]!.rowCount).toBe(11);
    const json = join(dir, 'cases.json');
    expect(
      await main([
        'node',
        'fieldsim',
        'export',
        'cases',
        ...base().slice(3),
        '--type',
        'household',
        '--out',
        json,
      ]),
    ).toBe(0);
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ case_type: 'household' });
  });

  it('exits 2 on usage mistakes and 1 when the server refuses', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['node', 'fieldsim', 'export', 'things', ...base().slice(3), '--xmlns', XMLNS])).toBe(
      2,
    );
    expect(await main(['node', 'fieldsim', 'export', 'forms', ...base().slice(3)])).toBe(2);
    expect(
      await main([
        'node',
        'fieldsim',
        'export',
        'forms',
        ...base().slice(3),
        '--xmlns',
        XMLNS,
        '--format',
        'xlsx',
      ]),
    ).toBe(2);
    const wrongKey = base().map((a) => (a === 'fieldsim-demo-key' ? 'nope' : a));
    expect(
      await main([
        'node',
        'fieldsim',
        'export',
        'forms',
        ...wrongKey.slice(3),
        '--xmlns',
        XMLNS,
        '--out',
        join(dir, 'x.csv'),
      ]),
    ).toBe(1);
    expect(err.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/fieldsim export:/);
  });
});
