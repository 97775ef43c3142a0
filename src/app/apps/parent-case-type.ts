import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { AppModule, AppStructure } from './app-structure.ts';

/**
 * The case type a child registration indexes as its parent, so the parent picker offers
 * only those cases (issue 13: it listed every case type). HQ's Application Structure API
 * does not say which type a form's parent index points at (PROTOCOL.md 9.5); in a CommCare
 * app it is the parent module's case type, which HQ's app builder writes into the form's
 * `<index><parent case_type="...">`. fieldsim reads it from what it can see, in order:
 *   1. cases of this module's type already on the device: the type their `parent` index
 *      names (the most common one, if they disagree);
 *   2. otherwise the one other module of the application that registers cases, when
 *      there is exactly one (the demo app: members under households).
 * `undefined` when neither tells: the picker then offers every type.
 */
export function parentTypeFromCases(children: readonly CaseRecord[]): string | undefined {
  const counts = new Map<string, number>();
  for (const c of children)
    for (const i of c.indices)
      if (i.identifier === 'parent' && i.caseType !== '')
        counts.set(i.caseType, (counts.get(i.caseType) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [t, n] of counts)
    if (n > bestCount) {
      best = t;
      bestCount = n;
    }
  return best;
}

export function parentTypeFromApp(app: AppStructure, module: AppModule): string | undefined {
  const others = new Set(
    app.modules
      .filter((m) => m.caseType !== '' && m.caseType !== module.caseType)
      .filter((m) => m.forms.some((f) => f.action === 'register'))
      .map((m) => m.caseType),
  );
  return others.size === 1 ? [...others][0] : undefined;
}

export async function parentCaseType(
  app: AppStructure,
  module: AppModule,
  casesOfType: (caseType: string) => Promise<CaseRecord[]>,
): Promise<string | undefined> {
  return parentTypeFromCases(await casesOfType(module.caseType)) ?? parentTypeFromApp(app, module);
}
