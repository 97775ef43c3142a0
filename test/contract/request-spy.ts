import type { DBCore, Middleware } from 'dexie';

/**
 * A Dexie middleware that logs every request of a database (`table.op` when issued and
 * when done, `tx(stores)` for each read-write transaction), for tests that pin how many
 * round trips to IndexedDB an operation costs. Install with `db.use()` before the
 * database opens. No framework imports: the Chromium contract run bundles it.
 */

/** One IndexedDB request as the spy saw it: issued, or completed. */
export interface RequestEvent {
  at: 'issue' | 'done';
  op: string;
}

export function requestSpy(log: RequestEvent[]): Middleware<DBCore> {
  return {
    stack: 'dbcore',
    name: 'request-spy',
    create: (down) => ({
      ...down,
      table: (name) => {
        const t = down.table(name);
        const wrap =
          <R, T>(kind: string, f: (req: R) => Promise<T>) =>
          (req: R): Promise<T> => {
            const op = `${name}.${kind === 'mutate' ? (req as { type: string }).type : kind}`;
            log.push({ at: 'issue', op });
            return f(req).then((x) => {
              log.push({ at: 'done', op });
              return x;
            });
          };
        return {
          ...t,
          get: wrap('get', t.get),
          getMany: wrap('getMany', t.getMany),
          query: wrap('query', t.query),
          count: wrap('count', t.count),
          openCursor: wrap('openCursor', t.openCursor),
          mutate: wrap('mutate', t.mutate),
        };
      },
      transaction: (stores, mode, opts) => {
        if (mode === 'readwrite') log.push({ at: 'issue', op: `tx(${stores.join(',')})` });
        return down.transaction(stores, mode, opts);
      },
    }),
  };
}
