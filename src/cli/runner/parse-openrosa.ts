import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import { openRosaEndpoints } from '../../core/openrosa/openrosa-server-url.ts';
import type { Scenario, Step, StepKind } from './scenario-types.ts';

/**
 * The `openrosa:` key of a scenario: the workers then act as ODK Collect against a generic
 * OpenRosa server (openrosa-worker.ts). Only the steps such a device has are allowed; a
 * CommCare step is a problem reported with the others when the file is read, never a
 * failure in the middle of a run.
 */

const OPENROSA_STEPS: readonly StepKind[] = [
  'login',
  'send',
  'offline',
  'online',
  'network',
  'wait',
  'submit_form',
  'assert_local',
  'repeat',
  'mix',
];

export type Problem = [path: string, message: string];

function stepProblems(steps: Step[], out: Problem[]): void {
  for (const s of steps) {
    if (!OPENROSA_STEPS.includes(s.kind))
      out.push([
        s.path,
        `${s.kind} is a CommCare step; an openrosa: scenario has ${OPENROSA_STEPS.join(', ')}`,
      ]);
    else if (s.kind === 'repeat') stepProblems(s.steps, out);
    else if (s.kind === 'mix') for (const b of s.branches) stepProblems(b.steps, out);
    else if (s.kind === 'assert_local' && s.checks.some((c) => c.what !== 'outbox'))
      out.push([s.path, 'an OpenRosa device has no cases: only outbox checks']);
    else if (s.kind === 'submit_form' && (s.case || s.parent || s.caseType || s.parentType))
      out.push([s.path, 'submit_form against an OpenRosa server takes form (a formID) and answers only']);
  }
}

export function parseOpenRosa(
  raw: unknown,
  steps: Step[],
  workers: Scenario['workers'] | undefined,
): { openrosa?: { url: string }; problems: Problem[] } {
  if (raw === undefined) return { problems: [] };
  const problems: Problem[] = [];
  const url =
    typeof raw === 'string'
      ? raw
      : raw !== null && typeof raw === 'object' && typeof (raw as { url?: unknown }).url === 'string'
        ? (raw as { url: string }).url
        : undefined;
  if (raw !== null && typeof raw === 'object' && Object.keys(raw).some((k) => k !== 'url'))
    problems.push(['openrosa', 'unknown key (expected: url)']);
  if (url === undefined) {
    problems.push(['openrosa', 'must be the server URL, or { url }']);
    return { problems };
  }
  try {
    openRosaEndpoints(url);
  } catch (e) {
    problems.push(['openrosa', e instanceof FieldsimError ? e.message : String(e)]);
  }
  stepProblems(steps, problems);
  if (workers?.users.kind === 'prefix' && workers.users.create)
    problems.push([
      'workers.users.create',
      'fieldsim creates users on CommCare HQ only, not on an OpenRosa server',
    ]);
  return { openrosa: { url }, problems };
}
