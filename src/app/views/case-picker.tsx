import { useSignalEffect } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import { backend, caseVersion } from '../state/app-state.ts';

/** Pick a case by name (prefix search), optionally of one type. */
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
        limit: 20,
        ...(caseType ? { caseType } : {}),
        ...(q.trim() ? { namePrefix: q.trim() } : {}),
      })
      .then((p) => setHits(p.cases));
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
    </div>
  );
}
