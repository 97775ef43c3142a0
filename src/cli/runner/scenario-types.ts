import type { Template } from './template.ts';

/**
 * A scenario once read and checked (parse-scenario.ts). Every step keeps its `path` in the
 * file (`steps[3].repeat.steps[0]`) so errors and reports can point at it.
 */

export type CountOp = '=' | '!=' | '>=' | '<=' | '>' | '<';

/** One comparison: `value` is a number, or `sent` (the forms this worker sent, forms checks only). */
export interface CountCheck {
  op: CountOp;
  value: number | 'sent';
}

/** Which local case a step works on. */
export type CaseRef =
  | { kind: 'last_created' }
  | { kind: 'random_open' }
  | { kind: 'random' }
  | { kind: 'id'; id: Template };

export type OutboxField = 'pending' | 'queued' | 'sending' | 'sent' | 'quarantined' | 'incomplete';

export type LocalCheck =
  | {
      what: 'cases';
      label: string;
      status: 'open' | 'closed' | 'all';
      caseType?: string;
      checks: CountCheck[];
    }
  | { what: 'outbox'; label: string; field: OutboxField; checks: CountCheck[] };

/** `self` is this worker's user id; anything else is used as an id as given. */
export type WhoRef = { kind: 'self' } | { kind: 'id'; id: string };

export interface ServerCaseCheck {
  owner?: WhoRef;
  user?: WhoRef;
  caseType?: string;
  counts: { field: 'open' | 'closed' | 'total'; checks: CountCheck[] }[];
}

export interface ServerFormCheck {
  user: WhoRef;
  xmlns?: string;
  checks: CountCheck[];
}

export type Props = [string, Template][];

export type StepBody =
  | { kind: 'login' }
  | { kind: 'restore' | 'sync' | 'send'; retries: number; retryWaitMs: number }
  | { kind: 'offline' }
  | { kind: 'online' }
  | { kind: 'network'; latencyMs: number; jitterMs: number; fail: number }
  | { kind: 'wait'; minMs: number; maxMs: number }
  | {
      kind: 'create_case';
      caseType: Template;
      name: Template;
      properties: Props;
      owner?: Template;
      parent?: CaseRef;
      parentType?: string;
    }
  | { kind: 'update_case'; case: CaseRef; caseType?: string; properties: Props; name?: Template }
  | { kind: 'close_case'; case: CaseRef; caseType?: string; properties: Props }
  | {
      kind: 'submit_form';
      form: string;
      case?: CaseRef;
      caseType?: string;
      parent?: CaseRef;
      parentType?: string;
      answers: Props;
    }
  | { kind: 'repeat'; times: number | 'duration'; steps: Step[] }
  | { kind: 'mix'; branches: { weight: number; steps: Step[] }[] }
  | { kind: 'assert_local'; checks: LocalCheck[] }
  | { kind: 'assert_server'; cases?: ServerCaseCheck; forms?: ServerFormCheck; timeoutMs?: number }
  /** Each form this worker sent reached the run's forwarding sink within `withinMs` of its ack. */
  | { kind: 'assert_forwarded'; checks: CountCheck[]; withinMs: number };

export type Step = StepBody & {
  /** Where the step is in the file: `steps[4]`, `steps[2].repeat.steps[0]`. */
  path: string;
  /** A failure of this step is reported but does not fail the run. */
  allowFailure: boolean;
};

export type StepKind = StepBody['kind'];

/** The leaf step kinds (everything but repeat and mix), in the order the summary lists them. */
export const LEAF_STEP_KINDS = [
  'login',
  'restore',
  'sync',
  'send',
  'offline',
  'online',
  'network',
  'wait',
  'create_case',
  'update_case',
  'close_case',
  'submit_form',
  'assert_local',
  'assert_server',
  'assert_forwarded',
] as const;

export const STEP_KINDS: readonly StepKind[] = [...LEAF_STEP_KINDS, 'repeat', 'mix'];

export type UsersSpec =
  | { kind: 'prefix'; prefix: string; password?: string; create: boolean }
  | { kind: 'csv'; file: string; users: { username: string; password: string }[] }
  | { kind: 'list'; names: string[]; password?: string };

export interface ArrivalSpec {
  /** Arrivals per second after the ramp. */
  rate: number;
  ramp: { forMs: number; rate: number }[];
  /** 0..1: each gap is scaled by a factor in [1 - jitter, 1 + jitter] from the scenario PRNG. */
  jitter: number;
}

export interface Scenario {
  name: string;
  /** The file it came from, when read from one. */
  file?: string;
  domain: string;
  server?: string;
  seed: string;
  workers: { count: number; users: UsersSpec };
  arrival?: ArrivalSpec;
  /** How long `repeat: duration` loops run, ms. */
  durationMs?: number;
  onError: 'stop' | 'continue';
  admin?: { username?: string; password?: string; apiKey?: string };
  /**
   * `openrosa: <url>`: the workers are ODK Collect-like clients of a generic OpenRosa server
   * (formList, XForms, submissions) instead of CommCare mobile workers (openrosa-worker.ts).
   */
  openrosa?: { url: string };
  /** assert_server: how long to retry (real HQ indexes asynchronously) and how often. */
  assert: { timeoutMs: number; intervalMs: number };
  steps: Step[];
}
