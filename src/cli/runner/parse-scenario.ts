import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import { parseDuration, parseRate } from './duration.ts';
import { parseOpenRosa } from './parse-openrosa.ts';
import type {
  ArrivalSpec,
  CaseRef,
  CountCheck,
  CountOp,
  LocalCheck,
  OutboxField,
  Props,
  Scenario,
  ServerCaseCheck,
  ServerFormCheck,
  Step,
  StepBody,
  UsersSpec,
  WhoRef,
} from './scenario-types.ts';
import { compileTemplate, type Template, TemplateError } from './template.ts';

/**
 * Reads a scenario file (YAML) into a checked `Scenario`. Every problem is reported with
 * its path in the file (`steps[3].create_case.type: required`); unknown keys and unknown
 * step names are errors, so a typo never silently does nothing. The vocabulary is
 * documented in docs/scenarios.md.
 */

/** A scenario that cannot run: `problems` lists each with its path. Exit status 2 in the CLI. */
export class ScenarioError extends FieldsimError {
  override readonly name = 'ScenarioError';
  readonly problems: string[];
  constructor(problems: string[], file?: string) {
    const where = file ? `${file}: ` : '';
    super(
      'invalid-argument',
      problems.length === 1
        ? `${where}${problems[0]}`
        : `${where}${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const OPS: Record<string, CountOp> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '>=': '>=',
  '<=': '<=',
  '>': '>',
  '<': '<',
};

const OUTBOX_FIELDS: readonly OutboxField[] = [
  'pending',
  'queued',
  'sending',
  'sent',
  'quarantined',
  'incomplete',
];

/** Collects problems instead of stopping at the first, so one run shows them all. */
class Checker {
  readonly problems: string[] = [];

  fail(path: string, message: string): undefined {
    if (this.problems.length < 50) this.problems.push(`${path}: ${message}`);
    return undefined;
  }

  keys(path: string, o: Obj, allowed: readonly string[]): void {
    for (const k of Object.keys(o))
      if (!allowed.includes(k))
        this.fail(path ? `${path}.${k}` : k, `unknown key (expected one of: ${allowed.join(', ')})`);
  }

  str(path: string, v: unknown, required: true): string | undefined;
  str(path: string, v: unknown, required?: false): string | undefined;
  str(path: string, v: unknown, required = false): string | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, 'required') : undefined;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string') return this.fail(path, 'must be a string');
    if (required && v.trim() === '') return this.fail(path, 'must not be empty');
    return v;
  }

  template(path: string, v: unknown, inRepeat: boolean, required = false): Template | undefined {
    const s = required ? this.str(path, v, true) : this.str(path, v);
    if (s === undefined) return undefined;
    try {
      return compileTemplate(s, { inRepeat });
    } catch (e) {
      if (e instanceof TemplateError) return this.fail(path, e.message);
      throw e;
    }
  }

  props(path: string, v: unknown, inRepeat: boolean): Props {
    if (v === undefined || v === null) return [];
    if (!isObj(v)) {
      this.fail(path, 'must be a map of name: value');
      return [];
    }
    const out: Props = [];
    for (const [k, x] of Object.entries(v)) {
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k)) {
        this.fail(
          `${path}.${k}`,
          'not a valid property name (letters, digits, _ . -; not starting with a digit)',
        );
        continue;
      }
      const t = this.template(`${path}.${k}`, x, inRepeat, false);
      if (t) out.push([k, t]);
      else if (x === undefined || x === null) this.fail(`${path}.${k}`, 'needs a value');
    }
    return out;
  }

  duration(path: string, v: unknown): number | undefined {
    const ms = parseDuration(v);
    return ms === null ? this.fail(path, `not a duration (e.g. 500ms, 2s, 1m): ${JSON.stringify(v)}`) : ms;
  }

  int(path: string, v: unknown, min: number): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      return this.fail(path, `must be an integer >= ${min}`);
    return v;
  }

  share(path: string, v: unknown): number | undefined {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      return this.fail(path, 'must be a number between 0 and 1');
    return v;
  }

  caseRef(path: string, v: unknown, inRepeat: boolean): CaseRef | undefined {
    if (v === 'last_created' || v === 'random_open' || v === 'random') return { kind: v };
    const t = this.template(path, v, inRepeat, true);
    if (!t) return undefined;
    if (!t.source.includes('{{') && /^[a-z_]+$/.test(t.source))
      return this.fail(
        path,
        `unknown case choice ${t.source} (last_created, random_open, random, or a case id)`,
      );
    return { kind: 'id', id: t };
  }

  who(path: string, v: unknown): WhoRef | undefined {
    if (v === undefined || v === null) return undefined;
    if (v === 'self') return { kind: 'self' };
    const s = this.str(path, v, true);
    return s === undefined ? undefined : { kind: 'id', id: s };
  }

  /** `9`, `sent` (when allowed), or `{">=": 9, "<": 20}`; `extra` keys are left to the caller. */
  counts(path: string, v: unknown, opts: { allowSent: boolean; extra?: readonly string[] }): CountCheck[] {
    const one = (p: string, x: unknown, op: CountOp): CountCheck | undefined => {
      if (x === 'sent') {
        if (!opts.allowSent) return this.fail(p, '`sent` is only meaningful for forms.count');
        return { op, value: 'sent' };
      }
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0)
        return this.fail(p, `must be a whole number${opts.allowSent ? ' or sent' : ''}`);
      return { op, value: x };
    };
    if (!isObj(v)) {
      const c = one(path, v, '=');
      return c ? [c] : [];
    }
    const out: CountCheck[] = [];
    for (const [k, x] of Object.entries(v)) {
      const op = OPS[k];
      if (op) {
        const c = one(`${path}.${k}`, x, op);
        if (c) out.push(c);
      } else if (!opts.extra?.includes(k))
        this.fail(
          `${path}.${k}`,
          `unknown key (expected a comparison =, !=, >=, <=, >, <${opts.extra?.length ? ` or ${opts.extra.join(', ')}` : ''})`,
        );
    }
    if (out.length === 0 && this.problems.length === 0)
      this.fail(path, 'needs a number or a comparison such as {">=": 1}');
    return out;
  }
}

const STRING_STEPS = ['login', 'restore', 'sync', 'send', 'offline', 'online'] as const;

function parseSteps(c: Checker, path: string, v: unknown, inRepeat: boolean): Step[] {
  if (!Array.isArray(v)) {
    c.fail(path, 'must be a list of steps');
    return [];
  }
  if (v.length === 0) c.fail(path, 'must list at least one step');
  const out: Step[] = [];
  v.forEach((raw, i) => {
    const s = parseStep(c, `${path}[${i}]`, raw, inRepeat);
    if (s) out.push(s);
  });
  return out;
}

function parseStep(c: Checker, path: string, raw: unknown, inRepeat: boolean): Step | undefined {
  if (typeof raw === 'string') {
    if ((STRING_STEPS as readonly string[]).includes(raw)) return finish(c, path, raw, null, inRepeat, false);
    return c.fail(
      path,
      `unknown step ${JSON.stringify(raw)} (steps without options: ${STRING_STEPS.join(', ')}; others take a map)`,
    );
  }
  if (!isObj(raw)) return c.fail(path, 'a step is a name or a map with one step name');
  const allowFailure = raw.allow_failure;
  if (allowFailure !== undefined && typeof allowFailure !== 'boolean')
    c.fail(`${path}.allow_failure`, 'must be true or false');
  if ('repeat' in raw) {
    c.keys(path, raw, ['repeat', 'steps', 'allow_failure']);
    const times = raw.repeat === 'duration' ? ('duration' as const) : c.int(`${path}.repeat`, raw.repeat, 0);
    const steps = parseSteps(c, `${path}.steps`, raw.steps, true);
    if (times === undefined) return undefined;
    return { kind: 'repeat', times, steps, path, allowFailure: allowFailure === true };
  }
  const names = Object.keys(raw).filter((k) => k !== 'allow_failure');
  if (names.length !== 1)
    return c.fail(
      path,
      `a step map has exactly one step name, got ${names.length > 0 ? names.join(', ') : 'none'}`,
    );
  const name = names[0] as string;
  return finish(c, path, name, raw[name], inRepeat, allowFailure === true);
}

function finish(
  c: Checker,
  path: string,
  name: string,
  arg: unknown,
  inRepeat: boolean,
  allowFailure: boolean,
): Step | undefined {
  const body = parseBody(c, `${path}.${name}`, name, arg, inRepeat);
  return body ? ({ ...body, path, allowFailure } as Step) : undefined;
}

function argMap(c: Checker, path: string, arg: unknown, allowed: readonly string[]): Obj | undefined {
  if (arg === null || arg === undefined) return {};
  if (!isObj(arg)) return c.fail(path, `must be a map (keys: ${allowed.join(', ')})`);
  c.keys(path, arg, allowed);
  return arg;
}

function parseBody(
  c: Checker,
  p: string,
  name: string,
  arg: unknown,
  inRepeat: boolean,
): StepBody | undefined {
  switch (name) {
    case 'login':
    case 'offline':
    case 'online':
      if (arg !== null && arg !== undefined) c.fail(p, 'takes no options');
      return { kind: name };
    case 'restore':
    case 'sync':
    case 'send': {
      const o = argMap(c, p, arg, ['retries', 'retry_wait']);
      if (!o) return undefined;
      const retries = o.retries === undefined ? 0 : c.int(`${p}.retries`, o.retries, 0);
      const wait = o.retry_wait === undefined ? 1000 : c.duration(`${p}.retry_wait`, o.retry_wait);
      if (retries === undefined || wait === undefined) return undefined;
      return { kind: name, retries, retryWaitMs: wait };
    }
    case 'network': {
      if (arg === 'reset') return { kind: 'network', latencyMs: 0, jitterMs: 0, fail: 0 };
      const o = argMap(c, p, arg, ['latency', 'jitter', 'fail']);
      if (!o) return undefined;
      const latency = o.latency === undefined ? 0 : c.duration(`${p}.latency`, o.latency);
      const jitter = o.jitter === undefined ? 0 : c.duration(`${p}.jitter`, o.jitter);
      const fail = o.fail === undefined ? 0 : c.share(`${p}.fail`, o.fail);
      if (latency === undefined || jitter === undefined || fail === undefined) return undefined;
      return { kind: 'network', latencyMs: latency, jitterMs: jitter, fail };
    }
    case 'wait': {
      if (isObj(arg)) {
        c.keys(p, arg, ['min', 'max']);
        const min = c.duration(`${p}.min`, arg.min);
        const max = c.duration(`${p}.max`, arg.max);
        if (min === undefined || max === undefined) return undefined;
        if (max < min) return c.fail(p, 'max must not be below min');
        return { kind: 'wait', minMs: min, maxMs: max };
      }
      const ms = c.duration(p, arg);
      return ms === undefined ? undefined : { kind: 'wait', minMs: ms, maxMs: ms };
    }
    case 'create_case': {
      const o = argMap(c, p, arg, ['type', 'name', 'properties', 'owner', 'parent', 'parent_type']);
      if (!o) return undefined;
      const caseType = c.template(`${p}.type`, o.type, inRepeat, true);
      const caseName = c.template(`${p}.name`, o.name, inRepeat, true);
      const properties = c.props(`${p}.properties`, o.properties, inRepeat);
      const owner = o.owner === undefined ? undefined : c.template(`${p}.owner`, o.owner, inRepeat, true);
      const parent = o.parent === undefined ? undefined : c.caseRef(`${p}.parent`, o.parent, inRepeat);
      const parentType = c.str(`${p}.parent_type`, o.parent_type);
      if (!caseType || !caseName) return undefined;
      return {
        kind: 'create_case',
        caseType,
        name: caseName,
        properties,
        ...(owner ? { owner } : {}),
        ...(parent ? { parent } : {}),
        ...(parentType ? { parentType } : {}),
      };
    }
    case 'update_case': {
      const o = argMap(c, p, arg, ['case', 'type', 'properties', 'name']);
      if (!o) return undefined;
      const ref = c.caseRef(`${p}.case`, o.case, inRepeat);
      const caseType = c.str(`${p}.type`, o.type);
      const properties = c.props(`${p}.properties`, o.properties, inRepeat);
      const caseName = o.name === undefined ? undefined : c.template(`${p}.name`, o.name, inRepeat, true);
      if (properties.length === 0 && !caseName)
        c.fail(`${p}.properties`, 'required (at least one property, or name)');
      if (!ref) return undefined;
      return {
        kind: 'update_case',
        case: ref,
        properties,
        ...(caseType ? { caseType } : {}),
        ...(caseName ? { name: caseName } : {}),
      };
    }
    case 'close_case': {
      const o = argMap(c, p, arg, ['case', 'type', 'properties']);
      if (!o) return undefined;
      const ref = c.caseRef(`${p}.case`, o.case, inRepeat);
      const caseType = c.str(`${p}.type`, o.type);
      const properties = c.props(`${p}.properties`, o.properties, inRepeat);
      if (!ref) return undefined;
      return { kind: 'close_case', case: ref, properties, ...(caseType ? { caseType } : {}) };
    }
    case 'submit_form': {
      const o = argMap(c, p, arg, ['form', 'case', 'type', 'parent', 'parent_type', 'answers']);
      if (!o) return undefined;
      const form = c.str(`${p}.form`, o.form, true);
      const ref = o.case === undefined ? undefined : c.caseRef(`${p}.case`, o.case, inRepeat);
      const parent = o.parent === undefined ? undefined : c.caseRef(`${p}.parent`, o.parent, inRepeat);
      const caseType = c.str(`${p}.type`, o.type);
      const parentType = c.str(`${p}.parent_type`, o.parent_type);
      const answers = c.props(`${p}.answers`, o.answers, inRepeat);
      if (!form) return undefined;
      return {
        kind: 'submit_form',
        form,
        answers,
        ...(ref ? { case: ref } : {}),
        ...(parent ? { parent } : {}),
        ...(caseType ? { caseType } : {}),
        ...(parentType ? { parentType } : {}),
      };
    }
    case 'mix': {
      if (!Array.isArray(arg) || arg.length === 0) return c.fail(p, 'must be a list of { weight, steps }');
      const branches: { weight: number; steps: Step[] }[] = [];
      for (const [i, b] of arg.entries()) {
        const bp = `${p}[${i}]`;
        if (!isObj(b)) {
          c.fail(bp, 'must be a map { weight, steps }');
          continue;
        }
        c.keys(bp, b, ['weight', 'steps']);
        const weight = b.weight;
        if (typeof weight !== 'number' || !(weight > 0)) c.fail(`${bp}.weight`, 'must be a number > 0');
        const steps = parseSteps(c, `${bp}.steps`, b.steps, inRepeat);
        if (typeof weight === 'number' && weight > 0) branches.push({ weight, steps });
      }
      return { kind: 'mix', branches };
    }
    case 'assert_local':
      return parseAssertLocal(c, p, arg);
    case 'assert_server':
      return parseAssertServer(c, p, arg);
    case 'assert_forwarded':
      return parseAssertForwarded(c, p, arg);
    case 'repeat':
      return c.fail(p, 'repeat needs its steps beside it: { repeat: 10, steps: [...] }');
    default:
      return c.fail(
        p,
        `unknown step ${JSON.stringify(name)} (known: login, restore, sync, send, offline, online, network, wait, create_case, update_case, close_case, submit_form, repeat, mix, assert_local, assert_server, assert_forwarded)`,
      );
  }
}

function parseAssertLocal(c: Checker, p: string, arg: unknown): StepBody | undefined {
  const o = argMap(c, p, arg, ['open_cases', 'closed_cases', 'cases', 'outbox']);
  if (!o) return undefined;
  const checks: LocalCheck[] = [];
  for (const [key, status] of [
    ['open_cases', 'open'],
    ['closed_cases', 'closed'],
    ['cases', 'all'],
  ] as const) {
    const v = o[key];
    if (v === undefined) continue;
    const caseType = isObj(v) ? c.str(`${p}.${key}.type`, v.type) : undefined;
    const counts = c.counts(`${p}.${key}`, v, { allowSent: false, extra: ['type'] });
    checks.push({
      what: 'cases',
      label: caseType ? `${key}[type=${caseType}]` : key,
      status,
      checks: counts,
      ...(caseType ? { caseType } : {}),
    });
  }
  if (o.outbox !== undefined) {
    if (!isObj(o.outbox)) c.fail(`${p}.outbox`, `must be a map of ${OUTBOX_FIELDS.join(', ')}`);
    else {
      c.keys(`${p}.outbox`, o.outbox, OUTBOX_FIELDS);
      for (const f of OUTBOX_FIELDS)
        if (o.outbox[f] !== undefined)
          checks.push({
            what: 'outbox',
            label: `outbox.${f}`,
            field: f,
            checks: c.counts(`${p}.outbox.${f}`, o.outbox[f], { allowSent: false }),
          });
    }
  }
  if (checks.length === 0) c.fail(p, 'needs at least one of open_cases, closed_cases, cases, outbox');
  return { kind: 'assert_local', checks };
}

function parseAssertServer(c: Checker, p: string, arg: unknown): StepBody | undefined {
  const o = argMap(c, p, arg, ['cases', 'forms', 'timeout']);
  if (!o) return undefined;
  let cases: ServerCaseCheck | undefined;
  let forms: ServerFormCheck | undefined;
  if (o.cases !== undefined) {
    const cp = `${p}.cases`;
    if (!isObj(o.cases)) c.fail(cp, 'must be a map');
    else {
      const x = o.cases;
      c.keys(cp, x, ['owner', 'user', 'type', 'open', 'closed', 'total']);
      const counts: ServerCaseCheck['counts'] = [];
      for (const f of ['open', 'closed', 'total'] as const)
        if (x[f] !== undefined)
          counts.push({ field: f, checks: c.counts(`${cp}.${f}`, x[f], { allowSent: false }) });
      if (counts.length === 0) c.fail(cp, 'needs at least one of open, closed, total');
      const owner = c.who(`${cp}.owner`, x.owner);
      const user = c.who(`${cp}.user`, x.user);
      if (!owner && !user) c.fail(cp, 'needs owner or user (e.g. owner: self)');
      const caseType = c.str(`${cp}.type`, x.type);
      cases = {
        counts,
        ...(owner ? { owner } : {}),
        ...(user ? { user } : {}),
        ...(caseType ? { caseType } : {}),
      };
    }
  }
  if (o.forms !== undefined) {
    const fp = `${p}.forms`;
    if (!isObj(o.forms)) c.fail(fp, 'must be a map');
    else {
      const x = o.forms;
      c.keys(fp, x, ['user', 'xmlns', 'count']);
      const user = c.who(`${fp}.user`, x.user ?? 'self') ?? { kind: 'self' };
      const xmlns = c.str(`${fp}.xmlns`, x.xmlns);
      if (x.count === undefined) c.fail(`${fp}.count`, 'required (a number, sent, or a comparison)');
      const checks = x.count === undefined ? [] : c.counts(`${fp}.count`, x.count, { allowSent: true });
      forms = { user, checks, ...(xmlns ? { xmlns } : {}) };
    }
  }
  const timeoutMs = o.timeout === undefined ? undefined : c.duration(`${p}.timeout`, o.timeout);
  if (!cases && !forms) c.fail(p, 'needs cases or forms');
  return {
    kind: 'assert_server',
    ...(cases ? { cases } : {}),
    ...(forms ? { forms } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/** `assert_forwarded: { forms: sent, within: 10s }` (issue 14); `within` defaults to 10 s. */
function parseAssertForwarded(c: Checker, p: string, arg: unknown): StepBody | undefined {
  const o = argMap(c, p, arg, ['forms', 'within']);
  if (!o) return undefined;
  if (o.forms === undefined) c.fail(`${p}.forms`, 'required (sent, a number, or a comparison)');
  const checks = o.forms === undefined ? [] : c.counts(`${p}.forms`, o.forms, { allowSent: true });
  const withinMs = o.within === undefined ? 10_000 : c.duration(`${p}.within`, o.within);
  return { kind: 'assert_forwarded', checks, withinMs: withinMs ?? 10_000 };
}

/** Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

function parseUsers(c: Checker, v: unknown, baseDir: string): UsersSpec | undefined {
  const p = 'workers.users';
  if (!isObj(v))
    return c.fail(p, 'required: { prefix, password, create }, { csv: file }, or { list: [...] }');
  if (v.prefix !== undefined) {
    c.keys(p, v, ['prefix', 'password', 'create']);
    const prefix = c.str(`${p}.prefix`, v.prefix, true);
    if (prefix !== undefined && !/^[a-z0-9][a-z0-9._-]*$/.test(prefix))
      c.fail(`${p}.prefix`, 'may use only a-z, 0-9, ".", "_" and "-" (HQ usernames)');
    const password = c.str(`${p}.password`, v.password);
    if (v.create !== undefined && typeof v.create !== 'boolean')
      c.fail(`${p}.create`, 'must be true or false');
    if (!prefix) return undefined;
    return { kind: 'prefix', prefix, create: v.create === true, ...(password ? { password } : {}) };
  }
  if (v.csv !== undefined) {
    c.keys(p, v, ['csv']);
    const rel = c.str(`${p}.csv`, v.csv, true);
    if (!rel) return undefined;
    const file = resolve(baseDir, rel);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      return c.fail(`${p}.csv`, `cannot read ${file}: ${(e as Error).message}`);
    }
    const rows = parseCsv(text);
    const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
    const ui = header.indexOf('username');
    const pi = header.indexOf('password');
    if (ui < 0 || pi < 0)
      return c.fail(`${p}.csv`, `${rel} needs a header row with username and password columns`);
    const users = rows.map((r) => ({ username: (r[ui] ?? '').trim(), password: r[pi] ?? '' }));
    users.forEach((u, i) => {
      if (u.username === '') c.fail(`${p}.csv`, `${rel} row ${i + 2}: empty username`);
    });
    if (users.length === 0) return c.fail(`${p}.csv`, `${rel} lists no users`);
    return { kind: 'csv', file, users };
  }
  if (v.list !== undefined) {
    c.keys(p, v, ['list', 'password']);
    if (
      !Array.isArray(v.list) ||
      v.list.length === 0 ||
      !v.list.every((x) => typeof x === 'string' && x !== '')
    )
      return c.fail(`${p}.list`, 'must be a non-empty list of usernames');
    const password = c.str(`${p}.password`, v.password);
    return { kind: 'list', names: v.list as string[], ...(password ? { password } : {}) };
  }
  return c.fail(p, 'needs one of prefix, csv, list');
}

function parseArrival(c: Checker, v: unknown): ArrivalSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return c.fail('arrival', 'must be a map { rate, ramp, jitter }');
  c.keys('arrival', v, ['rate', 'ramp', 'jitter']);
  const rate = parseRate(v.rate);
  if (rate === null)
    c.fail('arrival.rate', `required, a rate such as 5/s or 30/m: ${JSON.stringify(v.rate)}`);
  const ramp: ArrivalSpec['ramp'] = [];
  if (v.ramp !== undefined) {
    if (!Array.isArray(v.ramp)) c.fail('arrival.ramp', 'must be a list of { for, rate }');
    else
      for (const [i, r] of v.ramp.entries()) {
        const rp = `arrival.ramp[${i}]`;
        if (!isObj(r)) {
          c.fail(rp, 'must be a map { for, rate }');
          continue;
        }
        c.keys(rp, r, ['for', 'rate']);
        const forMs = c.duration(`${rp}.for`, r.for);
        const rr = parseRate(r.rate);
        if (rr === null) c.fail(`${rp}.rate`, `a rate such as 1/s: ${JSON.stringify(r.rate)}`);
        if (forMs !== undefined && rr !== null) ramp.push({ forMs, rate: rr });
      }
  }
  const jitter = v.jitter === undefined ? 0 : c.share('arrival.jitter', v.jitter);
  if (rate === null || jitter === undefined) return undefined;
  return { rate, ramp, jitter };
}

function usesDurationRepeat(steps: Step[]): boolean {
  return steps.some(
    (s) =>
      (s.kind === 'repeat' && (s.times === 'duration' || usesDurationRepeat(s.steps))) ||
      (s.kind === 'mix' && s.branches.some((b) => usesDurationRepeat(b.steps))),
  );
}

export interface ParseOptions {
  /** Shown in errors, and the base for relative paths (users csv). */
  file?: string;
  /** `--duration` overrides the scenario's `duration` (checked here so `repeat: duration` can rely on one). */
  durationMs?: number;
}

/** Reads YAML text. Throws `ScenarioError` listing every problem found. */
export function parseScenario(text: string, opts: ParseOptions = {}): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    if (e instanceof YAMLParseError) throw new ScenarioError([`YAML: ${e.message}`], opts.file);
    throw e;
  }
  const c = new Checker();
  if (!isObj(doc))
    throw new ScenarioError(['the file must hold a map (name, domain, workers, steps, ...)'], opts.file);
  c.keys('', doc, [
    'name',
    'domain',
    'server',
    'seed',
    'workers',
    'arrival',
    'duration',
    'on_error',
    'admin',
    'assert',
    'steps',
    'openrosa',
  ]);
  const baseDir = opts.file ? dirname(resolve(opts.file)) : process.cwd();
  const name = c.str('name', doc.name, true);
  // An openrosa: scenario talks to no HQ project.
  const domain =
    doc.openrosa === undefined ? c.str('domain', doc.domain, true) : (c.str('domain', doc.domain) ?? '');
  const server = c.str('server', doc.server);
  if (server !== undefined && !/^https?:\/\//.test(server)) c.fail('server', 'must be an http(s) URL');
  const seed = doc.seed === undefined ? '0' : c.str('seed', doc.seed);
  let workers: Scenario['workers'] | undefined;
  if (!isObj(doc.workers)) c.fail('workers', 'required: { count, users }');
  else {
    c.keys('workers', doc.workers, ['count', 'users']);
    const users = parseUsers(c, doc.workers.users, baseDir);
    const listed =
      users?.kind === 'csv' ? users.users.length : users?.kind === 'list' ? users.names.length : undefined;
    const count =
      doc.workers.count === undefined
        ? (listed ?? c.fail('workers.count', 'required with users.prefix'))
        : c.int('workers.count', doc.workers.count, 1);
    if (count !== undefined && listed !== undefined && count > listed)
      c.fail('workers.count', `is ${count} but the users list has only ${listed}`);
    if (users && count !== undefined) workers = { count, users };
  }
  const arrival = parseArrival(c, doc.arrival);
  const durationMs =
    opts.durationMs ?? (doc.duration === undefined ? undefined : c.duration('duration', doc.duration));
  const onErrorRaw = doc.on_error ?? 'stop';
  const onError = onErrorRaw === 'continue' ? 'continue' : 'stop';
  if (onErrorRaw !== 'stop' && onErrorRaw !== 'continue') c.fail('on_error', 'must be stop or continue');
  let admin: Scenario['admin'];
  if (doc.admin !== undefined) {
    if (!isObj(doc.admin)) c.fail('admin', 'must be a map { username, password | api_key }');
    else {
      c.keys('admin', doc.admin, ['username', 'password', 'api_key']);
      const username = c.str('admin.username', doc.admin.username);
      const password = c.str('admin.password', doc.admin.password);
      const apiKey = c.str('admin.api_key', doc.admin.api_key);
      admin = {
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        ...(apiKey ? { apiKey } : {}),
      };
    }
  }
  const assert = { timeoutMs: 30_000, intervalMs: 1_000 };
  if (doc.assert !== undefined) {
    if (!isObj(doc.assert)) c.fail('assert', 'must be a map { timeout, interval }');
    else {
      c.keys('assert', doc.assert, ['timeout', 'interval']);
      if (doc.assert.timeout !== undefined)
        assert.timeoutMs = c.duration('assert.timeout', doc.assert.timeout) ?? 0;
      if (doc.assert.interval !== undefined)
        assert.intervalMs = c.duration('assert.interval', doc.assert.interval) ?? 1000;
    }
  }
  const steps = parseSteps(c, 'steps', doc.steps, false);
  const { openrosa, problems: openRosaProblems } = parseOpenRosa(doc.openrosa, steps, workers);
  for (const [path, message] of openRosaProblems) c.fail(path, message);
  if (durationMs === undefined && usesDurationRepeat(steps))
    c.fail('duration', 'required when a step uses `repeat: duration` (or pass --duration)');
  if (c.problems.length > 0 || !name || domain === undefined || seed === undefined || !workers)
    throw new ScenarioError(c.problems.length > 0 ? c.problems : ['invalid scenario'], opts.file);
  return {
    name,
    domain,
    seed,
    workers,
    onError,
    assert,
    steps,
    ...(opts.file ? { file: opts.file } : {}),
    ...(server ? { server } : {}),
    ...(arrival ? { arrival } : {}),
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(admin ? { admin } : {}),
    ...(openrosa ? { openrosa } : {}),
  };
}

/** Reads and parses a scenario file; a missing file is a `ScenarioError` too. */
export function readScenario(file: string, opts: Omit<ParseOptions, 'file'> = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError([`cannot read the scenario: ${(e as Error).message}`], file);
  }
  return parseScenario(text, { ...opts, file });
}
