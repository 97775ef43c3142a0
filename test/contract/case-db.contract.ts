import { describe, it } from 'vitest';
import { type CaseDbEnv, caseDbChecks } from './case-db.checks.ts';

/**
 * Registers the case-database contract (case-db.checks.ts) for one backend. Node runs it
 * over fake-indexeddb (case-db.test.ts); Chromium runs the same checks over real
 * IndexedDB (test/browser/case-db.test.ts).
 */
export function runCaseDbContract(name: string, env: () => CaseDbEnv): void {
  describe(`case-db contract: ${name}`, () => {
    for (const [title, check] of Object.entries(caseDbChecks)) it(title, () => check(env()));
  });
}
