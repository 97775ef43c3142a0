import type { DBCore, DBCoreTable, DBCoreTransaction } from 'dexie';
import { IdbLikeError } from './idb-errors.ts';
import type { RawRequest, SqliteTransaction, TxQueue } from './sqlite-tx-queue.ts';

/** What a store's table gives Dexie, plus the raw read its transactions expose. */
export interface CoreTable extends Omit<DBCoreTable, 'name' | 'schema'> {
  readonly name: string;
  readonly schema: DBCoreTable['schema'];
  rawGet(tx: SqliteTransaction, key: unknown): RawRequest;
}

/**
 * The Dexie DBCore of a Node store (SQLite or plain Maps): its tables over one transaction
 * queue. Shared by both stores so Dexie sees the same core shape from either.
 */
export function assembleCore(queue: TxQueue, down: DBCore, raw: Map<string, CoreTable>): Partial<DBCore> {
  const tables = new Map<string, DBCoreTable>();
  for (const [name, t] of raw) {
    // A plain object: Dexie's middlewares copy tables with object spread, which skips
    // prototype methods.
    tables.set(name, {
      name: t.name,
      schema: t.schema,
      mutate: (req) => t.mutate(req),
      get: (req) => t.get(req),
      getMany: (req) => t.getMany(req),
      query: (req) => t.query(req),
      count: (req) => t.count(req),
      openCursor: (req) => t.openCursor(req),
    });
  }
  return {
    stack: 'dbcore',
    schema: down.schema,
    MIN_KEY: Number.NEGATIVE_INFINITY,
    MAX_KEY: [[]],
    transaction: (stores, mode) => {
      const tx = queue.create(stores, mode);
      tx.rawStore = (name) => {
        const t = raw.get(name) as CoreTable;
        return { get: (key) => t.rawGet(tx, key) };
      };
      return tx as unknown as DBCoreTransaction;
    },
    table(name: string): DBCoreTable {
      const t = tables.get(name);
      if (t === undefined) throw new IdbLikeError('NotFoundError', `No table ${name}`);
      return t;
    },
  };
}
