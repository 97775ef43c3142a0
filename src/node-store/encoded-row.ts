/**
 * A row whose value is already V8 structured-clone bytes, made in another thread (the
 * restore parse thread packs a full restore's pages: restore-parse-worker.ts). The SQLite
 * DBCore stores `bytes` as the value as they are (sqlite-dbcore.ts `writeOne`), so what
 * a read gives back is the row that was serialized, here only its key fields are seen.
 * Only for tables without secondary indexes (`casePages`, `caseSums`): their index keys
 * would have to be read from the value.
 */
export class EncodedRow {
  readonly gen: number;
  readonly page: number;
  readonly bytes: Buffer;

  constructor(gen: number, page: number, bytes: Buffer) {
    this.gen = gen;
    this.page = page;
    this.bytes = bytes;
  }
}
