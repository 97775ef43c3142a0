import { useSignalEffect } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import { backend, caseVersion } from '../state/app-state.ts';

/** At most this many matches are listed; the rest are counted and the worker narrows. */
const SHOWN = 20;

/**
 * Pick a case by a part of its name or of a property value, optionally of one type. Shows
 * the first 20 matches and says how many there are, so a longer list is not cut silently.
 */
export function CasePicker({
  selected,
  onSelect,
  openOnly,
  caseType,
  label = 'Find a case',
}: {
  selected: CaseRecord | null;
  onSelect: (c: CaseRecord) => void;
  openOnly: boolean;
  caseType?: string;
  label?: string;
}) {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<CaseRecord[]>([]);
  const [total, setTotal] = useState(0);
  const [version, setVersion] = useState(0);
  useSignalEffect(() => {
    setVersion(caseVersion.value);
  });
  useEffect(() => {
    const b = backend.value;
    if (!b) return;
    void b
      .queryCases({
        status: openOnly ? 'open' : 'all',
        sort: 'name',
        limit: SHOWN,
        ...(caseType ? { caseType } : {}),
        ...(q.trim() ? { text: q.trim() } : {}),
      })
      .then((p) => {
        setHits(p.cases);
        setTotal(p.total);
      });
  }, [q, openOnly, caseType, version]);
  return (
    <div class="picker">
      <label>
        {label}
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      <ul aria-label="Matching cases">
        {hits.map((c) => (
          <li key={c.caseId}>
            <button type="button" aria-pressed={selected?.caseId === c.caseId} onClick={() => onSelect(c)}>
              {c.caseName || '(no name)'} <span class="muted">· {c.caseType}</span>
            </button>
          </li>
        ))}
      </ul>
      {total > hits.length && (
        <p class="muted" role="status">
          Showing {hits.length} of {total} cases; type more of a name or a property to narrow the list.
        </p>
      )}
      {total === 0 && q.trim() !== '' && (
        <p class="muted" role="status">
          No {caseType ? `${caseType} ` : ''}case matches “{q.trim()}”.
        </p>
      )}
    </div>
  );
}
