import { useSignalEffect } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { CaseQuery } from '../../core/sync/session-types.ts';
import { backend, caseVersion } from '../state/app-state.ts';
import { href } from '../state/router.ts';

/**
 * The case list stays smooth with 100,000 cases: only the rows in view (plus a margin) are
 * in the DOM, and rows come from the database a page at a time (CaseQuery offset/limit).
 */
const ROW_H = 56;
const PAGE = 100;
const OVERSCAN = 8;

type Status = 'open' | 'closed' | 'all';

export function CaseListView() {
  const [types, setTypes] = useState<string[]>([]);
  const [caseType, setCaseType] = useState('');
  // Open cases by default, as CommCare's case lists show them; closed ones stay reachable
  // through the Status filter.
  const [status, setStatus] = useState<Status>('open');
  const [search, setSearch] = useState('');
  // What the query uses: the box's text once typing pauses (a search may read every case
  // page for the properties, so not on every keystroke).
  const [applied, setApplied] = useState('');
  const [owner, setOwner] = useState('');
  const [owners, setOwners] = useState<Map<string, string>>(new Map());
  /** The filter text whose results are on screen (for tests and screen readers). */
  const [shownQuery, setShownQuery] = useState<string | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [pages, setPages] = useState<Map<number, CaseRecord[]>>(new Map());
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [version, setVersion] = useState(0);
  const listRef = useRef<HTMLDivElement>(null);
  const loading = useRef(new Set<number>());
  const generation = useRef(0);
  const ownersVersion = useRef(-1);

  useSignalEffect(() => {
    setVersion(caseVersion.value);
  });

  useEffect(() => {
    const t = setTimeout(() => setApplied(search.trim()), search.trim() === '' ? 0 : 250);
    return () => clearTimeout(t);
  }, [search]);

  const query: CaseQuery = {
    status,
    sort: 'name',
    ...(caseType ? { caseType } : {}),
    ...(owner ? { ownerId: owner } : {}),
    ...(applied ? { text: applied } : {}),
  };
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    const b = backend.value;
    if (!b) return;
    void b.caseTypes().then(setTypes);
  }, [version]);

  // New filters or new data: drop cached pages and count again.
  useEffect(() => {
    const b = backend.value;
    if (!b) return;
    const gen = ++generation.current;
    loading.current.clear();
    void b.queryCases({ ...query, offset: 0, limit: PAGE }).then((page) => {
      if (gen !== generation.current) return;
      setTotal(page.total);
      setPages(new Map([[0, page.cases]]));
      setShownQuery(applied);
      // Owner names only fill the Owner filter: read after the first rows are on screen.
      if (ownersVersion.current !== version) {
        ownersVersion.current = version;
        void b.ownerNames().then(setOwners);
      }
    });
  }, [queryKey, version]);

  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || 600);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const count = total ?? 0;
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(count - 1, Math.ceil((scrollTop + viewport) / ROW_H) + OVERSCAN);

  // Fetch the pages the visible window needs.
  useEffect(() => {
    const b = backend.value;
    if (!b || count === 0) return;
    const gen = generation.current;
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) {
      if (pages.has(p) || loading.current.has(p)) continue;
      loading.current.add(p);
      void b.queryCases({ ...query, offset: p * PAGE, limit: PAGE }).then((page) => {
        if (gen !== generation.current) return;
        loading.current.delete(p);
        setPages((prev) => new Map(prev).set(p, page.cases));
      });
    }
  }, [first, last, count, pages, queryKey]);

  const rows = [];
  for (let i = first; i <= last; i++) {
    const c = pages.get(Math.floor(i / PAGE))?.[i % PAGE];
    rows.push(
      <li key={i} style={{ top: `${i * ROW_H}px` }} aria-setsize={count} aria-posinset={i + 1}>
        {c ? (
          <a href={href({ name: 'case', caseId: c.caseId })}>
            <span class="name">{c.caseName || '(no name)'}</span>
            <span class="type">{c.caseType}</span>
            <span class={`badge ${c.closed ? 'closed' : 'open'}`}>{c.closed ? 'closed' : 'open'}</span>
          </a>
        ) : (
          <span class="muted" style={{ padding: '0 1rem', lineHeight: `${ROW_H}px` }}>
            Loading…
          </span>
        )}
      </li>,
    );
  }

  return (
    <main id="main" tabIndex={-1}>
      <div class="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <h1>Cases</h1>
        <p role="status" aria-label="Case count" data-testid="case-count" style={{ margin: 0 }}>
          {total === null ? 'Loading cases…' : `${total} ${total === 1 ? 'case' : 'cases'}`}
        </p>
      </div>
      <div class="filters">
        <label>
          Case type
          <select value={caseType} onChange={(e) => setCaseType(e.currentTarget.value)}>
            <option value="">All types</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as Status)}>
            <option value="all">Any status</option>
            <option value="open">Open</option>
            <option value="closed">Closed</option>
          </select>
        </label>
        <label>
          Owner
          <select value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
            <option value="">Any owner</option>
            {[...owners].map(([id, name]) => (
              <option key={id} value={id}>
                {id === backend.value?.info.userId ? `Mine (${name})` : name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search name and properties
          {/* autocomplete off: Chromium would otherwise keep the typed text (a case name) in
              the profile's session-restore files, in clear (issue 16). */}
          <input
            type="search"
            autocomplete="off"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
      </div>
      <div
        class="vlist"
        ref={listRef}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        data-testid="case-list"
        data-query={shownQuery ?? undefined}
      >
        <ul aria-label="Case list" style={{ height: `${count * ROW_H}px` }}>
          {rows}
        </ul>
        {total === 0 && (
          <p class="muted" style={{ padding: '1rem' }}>
            No cases match.
          </p>
        )}
      </div>
    </main>
  );
}
