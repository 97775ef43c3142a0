import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { v4 as uuidv4 } from 'uuid';
import { HqApiClient } from '../../core/api/hq-api-client.ts';
import { buildAppFormDraft, validateForm } from '../../core/apps/app-form-draft.ts';
import {
  type AppForm,
  type AppModule,
  type AppStructure,
  applicationToWire,
  localName,
  parseApplication,
} from '../../core/apps/app-structure.ts';
import type { SaveAttachment } from '../../core/outbox/outbox.ts';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import type { FormDraft, FormNode } from '../../core/protocol/submission/form-types.ts';
import {
  closeCaseForm,
  registerCaseForm,
  updateCaseForm,
} from '../../core/protocol/submission/generic-forms.ts';
import type { OutboxItem, SendReport } from '../../core/sync/session-types.ts';
import {
  addWorkerOptions,
  collectPair,
  EXIT,
  note,
  requireCredentials,
  runCommand,
  UsageError,
  type WorkerFlags,
} from '../worker-options.ts';
import { type Worker, withWorker } from '../worker-session.ts';
import { submitOpenRosa } from './openrosa.ts';

/**
 * `fieldsim submit`: fill and save one form, as the worker would on the phone (issue 7).
 *
 *   generic case forms   --new-case --type T --name N [--prop k=v ...] [--parent ID] [--owner ID]
 *                        --update-case ID [--prop k=v ...] [--name N] [--owner ID]
 *                        --close-case ID [--prop k=v ...]
 *   application forms    --form "<name or xmlns>" [--case ID] [--answer tag=value ...] [--app ID|name]
 *
 * The form is composed, its case changes applied locally and it is queued in one
 * transaction (core `saveForm`), the state is written to disk, and only then is it sent
 * (unless `--offline`/`--no-send`); the state is written again with the outcome. So a form
 * the command printed an instanceID for is never lost, whatever happens to the send.
 *
 * `--attach name=path` (repeatable) adds a file as a multipart part named `name`, the way
 * the form refers to it: a question whose answer is that name, e.g. `--prop photo=a.jpg
 * --attach a.jpg=./photo.jpg` (PROTOCOL.md 7.2; a phone sends the files its instance names).
 * The core refuses files over HQ's limits before saving (`submission-too-large`).
 *
 * Application forms come from HQ's Application Structure API, which needs a web user:
 * `--app-user` with `--app-api-key`/`--app-password` (or FIELDSIM_APP_USER,
 * FIELDSIM_APP_API_KEY, FIELDSIM_APP_PASSWORD) fetches it and caches it in the worker's
 * state folder (`apps.json`); later submits use the cache.
 */

interface SubmitFlags extends WorkerFlags {
  newCase?: boolean;
  updateCase?: string;
  closeCase?: string;
  type?: string;
  name?: string;
  prop?: [string, string][];
  parent?: string;
  owner?: string;
  form?: string;
  case?: string;
  answer?: [string, string][];
  attach?: [string, string][];
  app?: string;
  appUser?: string;
  appPassword?: string;
  appApiKey?: string;
  offline?: boolean;
  send: boolean;
  openrosa?: string;
  xml?: string;
  deviceId?: string;
}

export interface SubmitJson {
  instanceId: string;
  formName: string;
  xmlns: string;
  /** The case a registration created. */
  caseId?: string;
  caseIds: string[];
  /** Files sent with the form (`--attach`), as multipart parts of these names. */
  attachments?: { name: string; type: string; size: number }[];
  /** After the send attempt: `sent`, `queued` (offline, or waiting for the network) or `quarantined`. */
  state: OutboxItem['state'];
  send: SendReport | null;
  lastError?: string;
  quarantineReason?: string;
  serverMessage?: string;
}

function props(flags: SubmitFlags): Record<string, string> {
  return Object.fromEntries(flags.prop ?? []);
}

async function localCase(w: Worker, id: string, what: string): Promise<CaseRecord> {
  const c = await w.session.getCase(id);
  if (c === undefined)
    throw new UsageError(`${what} ${id} is not in the local database (try \`fieldsim sync\`)`);
  return c;
}

// --- application forms ------------------------------------------------------------------

function appCredentials(flags: SubmitFlags) {
  const env = process.env;
  const user = flags.appUser ?? env.FIELDSIM_APP_USER;
  const key = flags.appApiKey ?? env.FIELDSIM_APP_API_KEY;
  const password = flags.appPassword ?? env.FIELDSIM_APP_PASSWORD;
  if (user === undefined || user === '') {
    if (flags.appApiKey !== undefined || flags.appPassword !== undefined)
      throw new UsageError('--app-api-key/--app-password need --app-user (a web user of the project)');
    return null;
  }
  if (key) return { kind: 'api-key' as const, username: user, key };
  if (password) return { kind: 'basic' as const, username: user, password };
  throw new UsageError(
    '--app-user needs --app-api-key or --app-password (or FIELDSIM_APP_API_KEY / FIELDSIM_APP_PASSWORD)',
  );
}

async function applications(w: Worker, flags: SubmitFlags): Promise<AppStructure[]> {
  const auth = appCredentials(flags);
  if (auth !== null) {
    const api = new HqApiClient({ serverUrl: w.record.server, domain: w.record.domain, auth });
    const apps = await api.applications.list();
    w.state.writeApps(apps.map(applicationToWire));
    note(flags, `application structure: ${apps.length} application(s) fetched and cached`);
    return apps;
  }
  const cached = w.state.readApps();
  if (cached === null)
    throw new UsageError(
      'Application forms need the application structure once: give --app-user with --app-api-key ' +
        '(a web user of the project; or FIELDSIM_APP_USER / FIELDSIM_APP_API_KEY)',
    );
  return cached.apps.map(parseApplication);
}

interface Match {
  app: AppStructure;
  module: AppModule;
  form: AppForm;
}

function findAppForm(apps: AppStructure[], wanted: string, appFilter: string | undefined): Match {
  const w = wanted.trim().toLowerCase();
  const exact: Match[] = [];
  const byName: Match[] = [];
  for (const app of apps) {
    if (appFilter !== undefined && app.id !== appFilter && app.name.toLowerCase() !== appFilter.toLowerCase())
      continue;
    for (const module of app.modules)
      for (const form of module.forms) {
        if (form.xmlns === wanted.trim() || form.uniqueId === wanted.trim())
          exact.push({ app, module, form });
        else if (Object.values(form.name).some((n) => n.toLowerCase() === w))
          byName.push({ app, module, form });
      }
  }
  const found = exact.length > 0 ? exact : byName;
  const describe = (m: Match) =>
    `"${localName(m.form.name)}" (${m.form.xmlns}) in ${m.app.name} / ${localName(m.module.name)}`;
  if (found.length === 1) return found[0] as Match;
  if (found.length > 1)
    throw new UsageError(
      `"${wanted}" matches ${found.length} forms; give the xmlns or --app:\n  ${found.map(describe).join('\n  ')}`,
    );
  const all = apps.flatMap((app) =>
    app.modules.flatMap((module) => module.forms.map((form) => describe({ app, module, form }))),
  );
  throw new UsageError(
    `No form "${wanted}"; the application structure has:\n  ${all.join('\n  ') || '(no forms)'}`,
  );
}

async function appDraft(w: Worker, flags: SubmitFlags) {
  const m = findAppForm(await applications(w, flags), flags.form as string, flags.app);
  const answers = Object.fromEntries(flags.answer ?? []);
  const unknown = Object.keys(answers).filter((t) => !m.form.questions.some((q) => q.tag === t));
  if (unknown.length > 0)
    throw new UsageError(
      `Unknown question(s) ${unknown.join(', ')}; the form asks: ${m.form.questions.map((q) => q.tag).join(', ')}`,
    );
  const errors = validateForm(m.form, answers);
  if (Object.keys(errors).length > 0)
    throw new UsageError(
      `The answers do not pass the form's checks: ${Object.entries(errors)
        .map(([t, e]) => `${t}: ${e}`)
        .join('; ')}`,
    );
  const needsCase = m.form.action === 'update' || m.form.action === 'close';
  const needsParent = m.form.action === 'register-child';
  if ((needsCase || needsParent) && flags.case === undefined)
    throw new UsageError(`"${localName(m.form.name)}" works on a case: give --case <case_id>`);
  const c = flags.case === undefined ? undefined : await localCase(w, flags.case, 'Case');
  const newCaseId = uuidv4();
  const draft = buildAppFormDraft({
    module: m.module,
    form: m.form,
    answers,
    ...(needsCase && c ? { target: c } : {}),
    ...(needsParent && c ? { parent: c } : {}),
    newCaseId,
  });
  const registers = m.form.action === 'register' || m.form.action === 'register-child';
  return { draft, newCaseId: registers ? newCaseId : undefined };
}

// --- attachments ----------------------------------------------------------------------

/**
 * Content types by extension: HQ keeps a file part only when its extension or type says
 * image, audio, video or PDF (hq:corehq/ex-submodules/couchforms/getters.py, see the
 * emulator's receiver), so the type must be right, not octet-stream for everything.
 */
const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  amr: 'audio/amr',
  '3ga': 'audio/3gpp',
  '3gp': 'video/3gpp',
  '3gpp': 'video/3gpp',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

/** `--attach name=path`: the part name must be a plain file name the form can refer to. */
function collectAttach(value: string, previous: [string, string][] = []): [string, string][] {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1)
    throw new InvalidArgumentError(`expected name=path, got "${value}"`);
  const name = value.slice(0, eq);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point.
  if (/[/\\\x00-\x1f]/.test(name) || name === '.' || name === '..')
    throw new InvalidArgumentError(`"${name}": the part name is a file name, without folders`);
  if (name === 'xml_submission_file')
    throw new InvalidArgumentError('xml_submission_file is the form itself, not an attachment name');
  if (previous.some(([n]) => n === name)) throw new InvalidArgumentError(`${name} is attached twice`);
  return [...previous, [name, value.slice(eq + 1)]];
}

function answerValues(nodes: FormNode[], into: Set<string>): Set<string> {
  for (const n of nodes) {
    if ('value' in n) into.add(n.value);
    else if ('children' in n) answerValues(n.children, into);
  }
  return into;
}

/**
 * The files, read before anything is saved. Each must be named by an answer of the form:
 * a phone sends the files its instance refers to, and an orphan part would be stored by
 * HQ with nothing in the form pointing at it.
 */
function attachments(flags: SubmitFlags, draft: FormDraft): SaveAttachment[] {
  const given = flags.attach ?? [];
  if (given.length === 0) return [];
  const values = answerValues(draft.children, new Set());
  return given.map(([name, path]) => {
    if (!values.has(name))
      throw new UsageError(
        `--attach ${name}: no answer of the form refers to it; name it in an answer, e.g. ` +
          (flags.form === undefined ? `--prop photo=${name}` : `--answer <question>=${name}`),
      );
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new UsageError(
        `--attach ${name}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
    return { name, blob: new Blob([new Uint8Array(data)], { type: contentTypeFor(name) }) };
  });
}

// --- the command ------------------------------------------------------------------------

function mode(flags: SubmitFlags): 'new' | 'update' | 'close' | 'form' {
  const modes = [
    flags.newCase ? 'new' : null,
    flags.updateCase !== undefined ? 'update' : null,
    flags.closeCase !== undefined ? 'close' : null,
    flags.form !== undefined ? 'form' : null,
  ].filter((m) => m !== null);
  if (modes.length !== 1)
    throw new UsageError(
      'Give exactly one of --new-case, --update-case <id>, --close-case <id>, --form <name>',
    );
  return modes[0] as 'new' | 'update' | 'close' | 'form';
}

/** The form to save and, for a registration, the new case id. */
async function draftFor(w: Worker, flags: SubmitFlags): Promise<{ draft: FormDraft; caseId?: string }> {
  const m = mode(flags);
  if (m !== 'form' && (flags.answer !== undefined || flags.case !== undefined))
    throw new UsageError('--answer and --case go with --form');
  switch (m) {
    case 'new': {
      if (flags.type === undefined || flags.name === undefined)
        throw new UsageError('--new-case needs --type <case_type> and --name <case_name>');
      const parent = flags.parent === undefined ? undefined : await localCase(w, flags.parent, 'Parent case');
      const caseId = uuidv4();
      const draft = registerCaseForm({
        caseId,
        caseType: flags.type,
        caseName: flags.name,
        properties: props(flags),
        ...(flags.owner === undefined ? {} : { ownerId: flags.owner }),
        ...(parent ? { parent: { caseId: parent.caseId, caseType: parent.caseType } } : {}),
      });
      return { draft, caseId };
    }
    case 'update': {
      const id = flags.updateCase as string;
      await localCase(w, id, 'Case');
      if (flags.prop === undefined && flags.name === undefined && flags.owner === undefined)
        throw new UsageError('--update-case needs --prop k=v (or --name / --owner)');
      return {
        draft: updateCaseForm({
          caseId: id,
          properties: props(flags),
          ...(flags.name === undefined ? {} : { caseName: flags.name }),
          ...(flags.owner === undefined ? {} : { ownerId: flags.owner }),
        }),
      };
    }
    case 'close': {
      const id = flags.closeCase as string;
      await localCase(w, id, 'Case');
      return { draft: closeCaseForm({ caseId: id, properties: props(flags) }) };
    }
    case 'form': {
      const { draft, newCaseId } = await appDraft(w, flags);
      return newCaseId === undefined ? { draft } : { draft, caseId: newCaseId };
    }
  }
}

async function save(
  w: Worker,
  flags: SubmitFlags,
): Promise<{ item: OutboxItem; caseId?: string; files: SaveAttachment[] }> {
  const { draft, caseId } = await draftFor(w, flags);
  const files = attachments(flags, draft);
  const item = await w.session.saveForm(draft, { attachments: files });
  return caseId === undefined ? { item, files } : { item, caseId, files };
}

export function registerSubmit(program: Command): void {
  const cmd = new Command('submit')
    .description('save a form (generic case form or an application form) to the outbox and send it')
    .option('--new-case', 'register a new case (needs --type and --name)')
    .option('--update-case <case_id>', 'update properties of a case')
    .option('--close-case <case_id>', 'close a case')
    .option('--type <case_type>', 'case type of the new case')
    .option('--name <case_name>', 'case name (new case, or rename with --update-case)')
    .option('--prop <name=value>', 'case property to set (repeatable)', collectPair)
    .option('--parent <case_id>', 'index the new case to this parent case (child)')
    .option('--owner <owner_id>', 'owner id (default: the user)')
    .option('--form <name_or_xmlns>', 'fill this application form (by name, xmlns or unique id)')
    .option(
      '--case <case_id>',
      'the case an application form updates or closes, or the parent of a child registration',
    )
    .option('--answer <tag=value>', 'answer to an application form question (repeatable)', collectPair)
    .option(
      '--attach <name=path>',
      'send a file as the attachment the form names (an answer equal to name; repeatable)',
      collectAttach,
    )
    .option('--app <id_or_name>', 'only look for --form in this application')
    .option('--app-user <web_user>', 'web user that reads the application structure (env FIELDSIM_APP_USER)')
    .option('--app-api-key <key>', "that web user's API key (env FIELDSIM_APP_API_KEY)")
    .option('--app-password <password>', "that web user's password (env FIELDSIM_APP_PASSWORD)")
    .option('--offline', 'only save it to the outbox; send later with `outbox send` or `sync`')
    .option('--no-send', 'same as --offline')
    .option(
      '--openrosa <url>',
      'send --xml to a generic OpenRosa server instead (see `fieldsim formlist --help`)',
    )
    .option('--xml <file>', 'with --openrosa: the filled instance to send')
    .option('--device-id <id>', 'with --openrosa: the deviceID sent (default fieldsim:cli)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fieldsim submit --new-case --type household --name "Dlamini" --prop village=north\n' +
        '  fieldsim submit --update-case <case_id> --prop visits=3 --offline\n' +
        '  fieldsim submit --close-case <case_id>\n' +
        '  fieldsim submit --update-case <case_id> --prop photo=front.jpg --attach front.jpg=./IMG_0042.jpg\n' +
        '  FIELDSIM_APP_USER=admin@example.com FIELDSIM_APP_API_KEY=... \\\n' +
        '    fieldsim submit --form "Follow up" --case <case_id> --answer visit_notes="all well"',
    );
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<SubmitFlags>();
    if (flags.openrosa !== undefined) return submitOpenRosa(flags);
    const offline = flags.offline === true || flags.send === false;
    await runCommand('submit', flags, () => {
      // Usage first, before the state is touched; and fail before saving when the form
      // could not be sent as asked.
      mode(flags);
      if (!offline) requireCredentials(flags, 'submit (without --offline)');
      return withWorker('submit', flags, 'optional', async (w) => {
        const { item, caseId, files } = await save(w, flags);
        // The queued form is on disk before any byte goes to the server.
        await w.persist();
        note(flags, `saved ${item.formName} as ${item.instanceId}`);
        let send: SendReport | null = null;
        if (!offline) {
          w.connect();
          send = await w.session.sendOutbox();
        }
        const after = (await w.session.listOutbox()).find((f) => f.instanceId === item.instanceId) ?? item;
        const json: SubmitJson = {
          instanceId: after.instanceId,
          formName: after.formName,
          xmlns: after.xmlns,
          ...(caseId === undefined ? {} : { caseId }),
          caseIds: after.caseIds,
          ...(files.length === 0
            ? {}
            : {
                attachments: files.map((f) => ({ name: f.name, type: f.blob.type, size: f.blob.size })),
              }),
          state: after.state,
          send,
          ...(after.lastError === undefined ? {} : { lastError: after.lastError }),
          ...(after.quarantineReason === undefined ? {} : { quarantineReason: after.quarantineReason }),
          ...(after.serverMessage === undefined ? {} : { serverMessage: after.serverMessage }),
        };
        const text = [`${after.instanceId} ${after.state}${caseId ? ` (case ${caseId})` : ''}`];
        if (after.state === 'queued' && send?.stoppedBy)
          text.push(
            `not sent yet: ${send.stoppedBy.message} [${send.stoppedBy.code}]; it stays in the outbox`,
          );
        if (after.state === 'quarantined')
          text.push(
            `set aside: ${after.quarantineReason ?? ''} ${after.serverMessage ?? after.lastError ?? ''}`.trim(),
          );
        const ok = after.state === 'sent' || (offline && after.state === 'queued');
        return { json, text, status: ok ? EXIT.ok : EXIT.failed };
      });
    });
  });
  program.addCommand(cmd);
}
