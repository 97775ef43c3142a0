/** What a secondary instance's `src` names (commcare-core `CommCareInstanceInitializer`). */
export type InstanceSource =
  | { kind: 'casedb' }
  | { kind: 'session' }
  | { kind: 'ledgerdb' }
  | { kind: 'fixture'; id: string }
  | { kind: 'search-input'; id: string }
  | { kind: 'results'; id: string }
  | { kind: 'selected-cases'; id: string }
  | { kind: 'locations' }
  | { kind: 'unknown'; src: string };

/**
 * Maps `jr://instance/casedb`, `jr://instance/session`, `jr://instance/ledgerdb`,
 * `jr://instance/locations`, `jr://fixture/<id>` (the fixture with that id, `item-list:x`
 * included), `jr://instance/search-input/<id>`, `jr://instance/results/<id>` and
 * `jr://instance/selected-entities/<id>` to what the host must supply.
 */
export function resolveInstanceSrc(src: string): InstanceSource {
  const s = src.trim();
  if (s === 'jr://instance/casedb') return { kind: 'casedb' };
  if (s === 'jr://instance/session') return { kind: 'session' };
  if (s === 'jr://instance/ledgerdb') return { kind: 'ledgerdb' };
  if (s === 'jr://instance/locations') return { kind: 'locations' };
  const rest = (prefix: string): string | undefined =>
    s.startsWith(prefix) ? s.slice(prefix.length) : undefined;
  const fixture = rest('jr://fixture/');
  if (fixture !== undefined && fixture !== '') return { kind: 'fixture', id: fixture };
  const search = rest('jr://instance/search-input/');
  if (search !== undefined) return { kind: 'search-input', id: search };
  if (s === 'jr://instance/search-input') return { kind: 'search-input', id: '' };
  const results = rest('jr://instance/results/');
  if (results !== undefined) return { kind: 'results', id: results };
  const selected = rest('jr://instance/selected-entities/') ?? rest('jr://instance/selected_cases/');
  if (selected !== undefined) return { kind: 'selected-cases', id: selected };
  return { kind: 'unknown', src: s };
}
