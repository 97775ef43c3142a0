import { Command, InvalidArgumentError } from 'commander';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { CaseQuery, OutboxState } from '../../core/sync/session-types.ts';
import {
  addWorkerOptions,
  collectPair,
  flagsOf,
  intOption,
  runCommand,
  type WorkerFlags,
} from '../worker-options.ts';
import { withWorker } from '../worker-session.ts';

/**
 * `fieldsim cases`: the local case database, offline (issue 7). `cases` lists with the
 * case list's filters (type, status, owner, name prefix, one property value, paging);
 * `cases show <case_id>` prints one case with its properties, the cases it indexes
 * (parents/hosts) and the cases indexing it (children/extensions), and the local forms
 * that touched it.
 */

interface ListFlags extends WorkerFlags {
  type?: string;
  status?: 'open' | 'closed' | 'all';
  owner?: string;
  search?: string;
  property?: [string, string][];
  sort?: 'name' | 'lastModified';
  limit?: number;
  offset?: number;
}

export interface CasesJson {
  total: number;
  offset: number;
  limit: number;
  cases: CaseRecord[];
}

export interface CaseShowJson {
  case: CaseRecord;
  /** The cases this one indexes; `found` false when the target is not on this device. */
  parents: {
    identifier: string;
    relationship: string;
    caseId: string;
    caseType: string;
    caseName: string | null;
    closed: boolean | null;
    found: boolean;
  }[];
  children: {
    identifier: string;
    relationship: string;
    caseId: string;
    caseType: string;
    caseName: string;
    closed: boolean;
  }[];
  forms: { instanceId: string; formName: string; state: OutboxState; createdAt: number }[];
}

function oneOf<T extends string>(name: string, allowed: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(allowed as readonly string[]).includes(v))
      throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}`);
    return v as T;
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s.slice(0, n - 1)}…` : s.padEnd(n);
}

async function list(flags: ListFlags) {
  return withWorker(
    'cases',
    flags,
    'none',
    async (w) => {
      const props = flags.property ?? [];
      if (props.length > 1) throw new FieldsimError('invalid-argument', '--property can be given once');
      const q: CaseQuery = {
        status: flags.status ?? 'open',
        offset: flags.offset ?? 0,
        limit: flags.limit ?? 50,
        sort: flags.sort ?? 'name',
      };
      if (flags.type !== undefined) q.caseType = flags.type;
      if (flags.owner !== undefined) q.ownerId = flags.owner;
      if (flags.search !== undefined) q.namePrefix = flags.search;
      const p = props[0];
      if (p !== undefined) q.property = { name: p[0], value: p[1] };
      const page = await w.session.listCases(q);
      const json: CasesJson = {
        total: page.total,
        offset: q.offset ?? 0,
        limit: q.limit ?? 50,
        cases: page.cases,
      };
      const text = page.cases.map(
        (c) =>
          `${c.caseId}  ${pad(c.caseType, 12)} ${c.closed ? 'closed' : 'open  '} ${pad(c.caseName, 32)} owner ${c.ownerId}`,
      );
      const last = json.offset + page.cases.length;
      text.push(
        `${page.total} case(s)${page.cases.length > 0 ? `; showing ${json.offset + 1}-${last}` : ''}`,
      );
      return { json, text };
    },
    { readOnly: true },
  );
}

async function show(caseId: string, flags: WorkerFlags) {
  return withWorker(
    'cases show',
    flags,
    'none',
    async (w) => {
      const c = await w.session.getCase(caseId);
      if (c === undefined)
        throw new FieldsimError('invalid-argument', `No case ${caseId} in the local database`);
      const parents: CaseShowJson['parents'] = [];
      for (const ix of c.indices) {
        const t = await w.session.getCase(ix.caseId);
        parents.push({
          identifier: ix.identifier,
          relationship: ix.relationship,
          caseId: ix.caseId,
          caseType: t?.caseType ?? ix.caseType,
          caseName: t?.caseName ?? null,
          closed: t ? t.closed : null,
          found: t !== undefined,
        });
      }
      const children = (await w.session.caseDb.related(caseId)).map((r) => ({
        identifier: r.identifier,
        relationship: r.relationship,
        caseId: r.case.caseId,
        caseType: r.case.caseType,
        caseName: r.case.caseName,
        closed: r.case.closed,
      }));
      const forms = (await w.session.listOutbox())
        .filter((f) => f.caseIds.includes(caseId))
        .map((f) => ({
          instanceId: f.instanceId,
          formName: f.formName,
          state: f.state,
          createdAt: f.createdAt,
        }));
      const json: CaseShowJson = { case: c, parents, children, forms };
      const text = [
        `${c.caseName} (${c.caseType}, ${c.closed ? 'closed' : 'open'})`,
        `  case id:       ${c.caseId}`,
        `  owner:         ${c.ownerId}`,
        `  opened:        ${c.dateOpened || '-'}`,
        `  last modified: ${c.lastModified || '-'} by ${c.userId || '-'}`,
      ];
      if (c.externalId) text.push(`  external id:   ${c.externalId}`);
      const keys = Object.keys(c.properties).sort();
      text.push(keys.length > 0 ? 'properties:' : 'properties: (none)');
      for (const k of keys) text.push(`  ${k} = ${c.properties[k]}`);
      if (parents.length > 0) text.push('indexes (parents/hosts):');
      for (const p of parents)
        text.push(
          `  ${p.identifier} (${p.relationship}) -> ${p.caseId} ${p.caseName ?? '(not on this device)'} [${p.caseType}]`,
        );
      if (children.length > 0) text.push('indexed by (children/extensions):');
      for (const ch of children)
        text.push(
          `  ${ch.caseId} ${ch.caseName} [${ch.caseType}${ch.closed ? ', closed' : ''}] as ${ch.identifier}`,
        );
      if (forms.length > 0) text.push('local forms:');
      for (const f of forms) text.push(`  ${f.instanceId} ${f.formName} (${f.state})`);
      return { json, text };
    },
    { readOnly: true },
  );
}

export function registerCases(program: Command): void {
  const cmd = new Command('cases')
    .description('list and query the local case database (offline)')
    .option('--type <case_type>', 'only this case type')
    .option(
      '--status <status>',
      'open, closed or all (default open)',
      oneOf('--status', ['open', 'closed', 'all'] as const),
    )
    .option('--owner <owner_id>', 'only cases of this owner id')
    .option('--search <text>', 'case name starts with (case-insensitive)')
    .option('--property <name=value>', 'case property equals value', collectPair)
    .option(
      '--sort <order>',
      'name or lastModified (default name)',
      oneOf('--sort', ['name', 'lastModified'] as const),
    )
    .option('--limit <n>', 'rows to print (default 50)', intOption('--limit', 0))
    .option('--offset <n>', 'rows to skip (default 0)', intOption('--offset', 0));
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<ListFlags>();
    await runCommand('cases', flags, () => list(flags));
  });

  const showCmd = new Command('show')
    .description('one case: properties, parents, children and local forms')
    .argument('<case_id>', 'the case id');
  addWorkerOptions(showCmd);
  showCmd.action(async (caseId: string, _opts: unknown, self: Command) => {
    const flags = flagsOf<WorkerFlags>(self);
    await runCommand('cases show', flags, () => show(caseId, flags));
  });
  cmd.addCommand(showCmd);
  program.addCommand(cmd);
}
