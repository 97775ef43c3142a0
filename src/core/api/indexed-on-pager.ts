import { FieldsimError } from '../errors/fieldsim-error.ts';
import type { ApiTransport } from './api-transport.ts';
import type { ApiPage } from './api-types.ts';

/** Page size of `iterateByIndexedOn` when none is given: commcare-export's default. */
export const INDEXED_ON_PAGE_SIZE = 1000;

/**
 * An object's `indexed_on` as a filter value: HQ writes `2026-01-01T10:00:00.123456Z`, its
 * `validate_date` takes only naive times (`%Y-%m-%dT%H:%M:%S.%f`), so the `Z` goes.
 */
export function indexedOnFilter(stamp: string): string {
  return stamp.replace(/(Z|[+-]00:?00)$/, '');
}

/**
 * Every object of a form or case list, paged the way commcare-export pages HQ
 * (commcare_export/commcare_minilinq.py `DatePaginator`, commcare_hq_client.py `iterate`):
 * `order_by=indexed_on`, and each next page asked with `indexed_on_start` set to the last
 * object's `indexed_on`, never with a deep `offset`: HQ's search index answers deep offsets
 * slowly and a list that changes while it is read shifts offset pages (objects skipped or
 * seen twice). The boundary object comes back at the top of the next page and is skipped;
 * the walk ends on a page without `meta.next` or without anything new. A page that brings
 * nothing new although it is full means more objects share one stamp than a page holds:
 * that is a `bad-response` rather than an endless loop.
 */
export async function* iterateByIndexedOn<T extends { id: string; indexed_on?: string | null }>(
  t: ApiTransport,
  path: string,
  query: URLSearchParams,
): AsyncGenerator<T, void, undefined> {
  const q = new URLSearchParams(query);
  if (!q.has('limit')) q.set('limit', String(INDEXED_ON_PAGE_SIZE));
  q.set('order_by', 'indexed_on');
  q.delete('offset');
  let boundary = new Set<string>();
  for (;;) {
    const page: ApiPage<T> = await t.getPage<T>(t.url(path, q));
    let fresh = 0;
    for (const o of page.objects) {
      if (boundary.has(o.id)) continue;
      fresh++;
      yield o;
    }
    const last = page.objects.at(-1);
    if (!last || page.meta.next === null) return;
    if (fresh === 0) {
      if (page.objects.length >= Number(q.get('limit'))) {
        throw new FieldsimError(
          'bad-response',
          `${path}: more than ${page.objects.length} objects share indexed_on ${last.indexed_on}; paging by indexed_on cannot advance`,
        );
      }
      return;
    }
    if (!last.indexed_on) throw new FieldsimError('bad-response', `${path}: an object without indexed_on`);
    // The objects carrying the boundary stamp come back at the top of the next page; those
    // of earlier pages too while the stamp has not moved on.
    const atStamp = page.objects.filter((o) => o.indexed_on === last.indexed_on).map((o) => o.id);
    boundary =
      q.get('indexed_on_start') === indexedOnFilter(last.indexed_on)
        ? new Set([...boundary, ...atStamp])
        : new Set(atStamp);
    q.set('indexed_on_start', indexedOnFilter(last.indexed_on));
  }
}
