import { useEffect, useMemo, useState } from 'preact/hooks';
import { caseDetail, caseList } from '../../core/suite/case-list.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import type { SuiteContext } from '../../core/suite/suite-context.ts';
import type { EntityDatum, SuiteEntry } from '../../core/suite/suite-model.ts';
import { href, type Route, replaceRoute } from '../state/router.ts';
import { describeAppError } from './installed-apps.ts';

type AppRoute = Extract<Route, { name: 'app' }>;

/**
 * A case-selection datum (commcare-core `EntityDatum`): the list is the suite's short
 * detail over the datum's nodeset (columns, headers, sort), searchable over the visible
 * columns like the phone's case list filter; a case opens its long detail to confirm
 * (`Continue`) before the session carries on.
 */
export function CaseSelect({
  app,
  entry,
  datum,
  ctx,
  nav,
}: {
  app: CommCareApp;
  entry: SuiteEntry;
  datum: EntityDatum;
  ctx: SuiteContext;
  nav: AppRoute;
}) {
  const [query, setQuery] = useState('');
  // Built once per screen: typing in the search box filters these rows, it does not
  // evaluate the detail's XPath again.
  const built = useMemo(() => {
    try {
      return { list: caseList(app, entry, datum.id, ctx) };
    } catch (e) {
      return { error: describeAppError(e) };
    }
  }, [app, entry, datum, ctx]);
  if (!('list' in built) || built.list === undefined) {
    return (
      <p role="alert" class="field-error">
        The case list cannot be shown: {built.error}
      </p>
    );
  }
  const list = built.list;
  const visible = list.columns.map((c, i) => ({ c, i })).filter(({ c }) => !c.hidden);
  const q = query.trim().toLowerCase();
  const rows =
    q === ''
      ? list.rows
      : list.rows.filter((r) => visible.some(({ i }) => (r.cells[i] ?? '').toLowerCase().includes(q)));
  const choose = (caseId: string): AppRoute => {
    const { confirm: _c, ...rest } = nav;
    return { ...rest, confirm: caseId };
  };
  return (
    <section class="stack" aria-labelledby="case-list-h">
      <h2 id="case-list-h">{list.title || 'Cases'}</h2>
      <AutoSelect datum={datum} only={list.rows.length === 1 ? list.rows[0]?.caseId : undefined} nav={nav} />
      <label>
        Search cases
        <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </label>
      <p class="muted" role="status">
        {rows.length === list.rows.length
          ? `${rows.length} ${rows.length === 1 ? 'case' : 'cases'}`
          : `${rows.length} of ${list.rows.length} cases`}
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              {visible.map(({ c, i }) => (
                <th key={i} scope="col">
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.caseId}>
                {visible.map(({ i }, k) => (
                  <td key={i}>
                    {k === 0 ? <a href={href(choose(r.caseId))}>{r.cells[i] || r.caseId}</a> : r.cells[i]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** `autoselect="true"`: the only case is taken without showing the list. */
function AutoSelect({ datum, only, nav }: { datum: EntityDatum; only: string | undefined; nav: AppRoute }) {
  useEffect(() => {
    if (datum.autoselect && only !== undefined)
      replaceRoute({ ...nav, data: { ...nav.data, [datum.id]: only } });
  }, [datum, only]);
  return null;
}

/** The long detail of the picked case, with `Continue` into the rest of the session. */
export function CaseConfirm({
  app,
  entry,
  datum,
  caseId,
  ctx,
  nav,
}: {
  app: CommCareApp;
  entry: SuiteEntry;
  datum: EntityDatum;
  caseId: string;
  ctx: SuiteContext;
  nav: AppRoute;
}) {
  const { confirm: _c, ...back } = nav;
  let detail: ReturnType<typeof caseDetail>;
  try {
    detail = caseDetail(app, entry, datum.id, caseId, ctx);
  } catch (e) {
    return (
      <p role="alert" class="field-error">
        This case cannot be shown: {describeAppError(e)}
      </p>
    );
  }
  return (
    <section class="card stack" aria-labelledby="case-confirm-h">
      <h2 id="case-confirm-h">Case details</h2>
      {detail.tabs.map((tab, t) => (
        <div key={t} class="stack">
          {tab.title && <h3>{tab.title}</h3>}
          {tab.rows.length <= 1 ? (
            <dl class="props">
              {tab.headers.map((h, i) => (
                <div key={i} style={{ display: 'contents' }}>
                  <dt>{h}</dt>
                  <dd>{tab.rows[0]?.[i] ?? ''}</dd>
                </div>
              ))}
            </dl>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    {tab.headers.map((h, i) => (
                      <th key={i} scope="col">
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {tab.rows.map((r, k) => (
                    <tr key={k}>
                      {r.map((cell, i) => (
                        <td key={i}>{cell}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ))}
      <div class="row">
        <button
          type="button"
          onClick={() => replaceRoute({ ...back, data: { ...nav.data, [datum.id]: caseId } })}
        >
          Continue
        </button>
        <a class="button secondary" href={href(back)}>
          Back to the list
        </a>
      </div>
    </section>
  );
}
