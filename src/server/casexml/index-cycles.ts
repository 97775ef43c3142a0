import type { StoredCase } from '../db/cases.ts';
import { CaseProcessingError } from './process-cases.ts';

/**
 * Refuses a form whose case indices would make a cycle: a case indexing itself, or cases
 * indexing each other, among the form's own cases or through cases already stored. A
 * cycle breaks every later restore of the owner for good: the phone's purge walks the
 * index graph and stops with `InvalidCaseGraphException` on a cycle
 * (commcare-core: org/commcare/cases/util/CasePurgeFilter.java), and fieldsim's client
 * does the same ('invalid-case-graph'). The stored graph is acyclic (every form is
 * checked), so a new cycle must pass through a case this form touched: a depth-first
 * walk from each of them, reading untouched cases' indices from the database, finds it.
 */
export function checkIndexCycles(
  touched: Map<string, StoredCase>,
  storedTargets: (caseId: string) => string[],
): void {
  const targets = (id: string): string[] => {
    const c = touched.get(id);
    return c ? c.indices.map((i) => i.caseId) : storedTargets(id);
  };
  const done = new Set<string>();
  for (const start of touched.keys()) {
    if (done.has(start)) continue;
    // Iterative walk: an index chain can be long, the call stack is not.
    const path: string[] = [];
    const onPath = new Set<string>();
    const stack: { id: string; next: string[]; at: number }[] = [];
    const enter = (id: string): void => {
      path.push(id);
      onPath.add(id);
      stack.push({ id, next: targets(id), at: 0 });
    };
    enter(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: string[]; at: number };
      if (top.at >= top.next.length) {
        stack.pop();
        path.pop();
        onPath.delete(top.id);
        done.add(top.id);
        continue;
      }
      const to = top.next[top.at++] as string;
      if (onPath.has(to)) {
        const cycle = path.slice(path.indexOf(to));
        // A cycle stored before this check existed is left alone; only new ones are refused.
        if (cycle.some((id) => touched.has(id))) throw cycleError([...cycle, to]);
        continue;
      }
      if (!done.has(to)) enter(to);
    }
  }
}

function cycleError(cycle: string[]): CaseProcessingError {
  const first = cycle[0] as string;
  const message =
    cycle.length === 2
      ? `Case '${first}' indexes itself; a case cannot be its own parent or host`
      : `Cases index each other in a cycle: ${cycle.map((id) => `'${id}'`).join(' -> ')}; case indices must not form a cycle`;
  // HQ refuses invalid case graphs as a known processing error (422 processing_failure
  // under OpenRosa 3.0), saving the form as an error form and changing no case.
  return new CaseProcessingError('InvalidCaseIndex', message);
}
