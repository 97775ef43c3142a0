import { describe, it } from 'vitest';
import { type CaseDbEnv, caseDbChecks } from './case-db.checks.ts';

/**
 * Registers the case-database contract (case-db.checks.ts) for one backend. Node runs it
 * over fake-indexeddb (case-db.test.ts); Chromium runs the same checks over real
 * IndexedDB (test/browser/case-db.test.ts).
 */
export function runCaseDbContract(
  name: string,
  env: () => CaseDbEnv,
  opts: { notApplicable?: readonly string[] } = {},
): void {
  const skip = new Set(opts.notApplicable ?? []);
  for (const t of skip) if (!(t in caseDbChecks)) throw new Error(`no such check: ${t}`);
  describe(`case-db contract: ${name}`, () => {
    for (const [title, check] of Object.entries(caseDbChecks))
      if (!skip.has(title)) it(title, () => check(env()));
  });
}
