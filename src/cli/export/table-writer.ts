import { createWriteStream, type WriteStream } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';

export type ExportFormat = 'csv' | 'xlsx' | 'json';

/** Rows written one page at a time, so that a large export never sits in memory whole. */
export interface TableWriter {
  /** The column names, once, before any row. */
  begin(headers: string[]): Promise<void>;
  rows(rows: Record<string, unknown>[]): Promise<void>;
  end(): Promise<void>;
}

const cell = (v: unknown): string | number | boolean | null =>
  v === null || v === undefined
    ? null
    : typeof v === 'object'
      ? JSON.stringify(v)
      : (v as string | number | boolean);

function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(text)) resolve();
    else {
      out.once('drain', resolve);
      out.once('error', reject);
    }
  });
}

function closeStream(out: NodeJS.WritableStream): Promise<void> {
  if (out === process.stdout) return Promise.resolve();
  return new Promise((resolve, reject) => {
    (out as WriteStream).once('error', reject);
    out.end(() => resolve());
  });
}

/** CSV (RFC 4180, a header line) or a JSON array of objects, to a file or stdout. */
function textWriter(format: 'csv' | 'json', out: NodeJS.WritableStream): TableWriter {
  let headers: string[] = [];
  let first = true;
  return {
    async begin(h) {
      headers = h;
      await write(out, format === 'csv' ? stringify([h]) : '[');
    },
    async rows(rows) {
      if (rows.length === 0) return;
      if (format === 'csv') {
        await write(out, stringify(rows.map((r) => headers.map((h) => cell(r[h])))));
        return;
      }
      const text = rows.map((r) => JSON.stringify(Object.fromEntries(headers.map((h) => [h, r[h] ?? null]))));
      await write(out, `${first ? '\n' : ',\n'}${text.join(',\n')}`);
      first = false;
    },
    async end() {
      if (format === 'json') await write(out, first ? ']\n' : '\n]\n');
      await closeStream(out);
    },
  };
}

/** XLSX through exceljs's streaming writer: each row is flushed to the file as it comes. */
function xlsxWriter(path: string, sheetName: string): TableWriter {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false });
  const sheet = wb.addWorksheet(sheetName.slice(0, 31) || 'export');
  let headers: string[] = [];
  return {
    async begin(h) {
      headers = h;
      sheet.addRow(h).commit();
    },
    async rows(rows) {
      for (const r of rows) sheet.addRow(headers.map((h) => cell(r[h]))).commit();
    },
    async end() {
      sheet.commit();
      await wb.commit();
    },
  };
}

/** A writer for `format` into `path` (`-` or undefined: stdout, which XLSX cannot use). */
export function openTableWriter(
  format: ExportFormat,
  path: string | undefined,
  sheetName: string,
): TableWriter {
  if (format === 'xlsx') {
    if (!path || path === '-') throw new Error('XLSX needs --out <file>');
    return xlsxWriter(path, sheetName);
  }
  const out = !path || path === '-' ? process.stdout : createWriteStream(path);
  return textWriter(format, out);
}

/** The format a file name implies (`.csv`, `.xlsx`, `.json`), if any. */
export function formatOfPath(path: string | undefined): ExportFormat | undefined {
  const m = /\.(csv|xlsx|json)$/i.exec(path ?? '');
  return m ? (m[1]!.toLowerCase() as ExportFormat) : undefined;
}
