import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { AppAnswers } from '../../core/apps/apply-answers.ts';
import { entryFormDef, entryNeedsCase, fillAppForm } from '../../core/apps/fill-app-form.ts';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';
import { XFormError } from '../../core/errors/xform-error.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import { menuText } from '../../core/suite/menu-navigation.ts';
import { displayText, makeScope } from '../../core/suite/suite-context.ts';
import type { SuiteEntry } from '../../core/suite/suite-model.ts';
import { parseXForm } from '../../core/xforms/form-session.ts';
import { deviceDataFor } from '../apps/device-data-arg.ts';
import { loadAppArg } from '../apps/load-app-arg.ts';
import { CliExit } from '../cli-exit.ts';
import { errorJson } from '../worker-options.ts';

/**
 * `fieldsim app fill|check|show`: run a real CommCare app's forms without a phone (issue 12).
 * The JSON shapes and exit statuses are contracts QA scripts rely on:
 *   fill   0 `{"form":{"command","xmlns","name"},"xml","caseBlocks","errors":[]}`
 *          1 `{"form",...,"errors":[{"ref","code":"required|constraint|type","message"}]}` (no xml)
 *          2 `{"error":{"code","message"}}` (bad app, unknown form, XPath, missing instance, bad flags)
 *   check  one JSON line per form `{"command","xmlns","ok","error"?,"skipped"?}`, then a summary;
 *          0 when every loaded form filled, 1 otherwise, 2 when the app itself does not load
 *   show   menus, forms, case types and languages
 */

interface AppFlags {
  appId?: string;
  domain?: string;
  user?: string;
  password?: string;
  restore?: string;
  state?: string;
  json?: boolean;
  lang?: string;
}

interface FillFlags extends AppFlags {
  form: string;
  case?: string[];
  datum?: [string, string][];
  answers?: string;
  auto?: boolean;
  seed?: number;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const collectDatum = (v: string, prev: [string, string][] = []): [string, string][] => {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--datum takes NAME=VALUE, got "${v}"`);
  return [...prev, [v.slice(0, eq), v.slice(eq + 1)]];
};
const intArg = (v: string): number => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`expected an integer, got "${v}"`);
  return Number(v);
};

function appOptions(cmd: Command): Command {
  return cmd
    .option('--app-id <id>', 'app id, when APP is a server URL')
    .option('--domain <domain>', 'project space, when APP is a server URL without /a/<domain>/')
    .option('--user <username>', 'mobile worker for a server APP or a --state folder (env FIELDSIM_USER)')
    .option('--password <password>', 'password for a server APP (prefer env FIELDSIM_PASSWORD)')
    .option('--restore <file>', 'restore XML: the cases, fixtures and user the forms read')
    .option('--state <dir>', 'a logged-in worker state folder (fieldsim login) instead of --restore')
    .option('--lang <lang>', 'display language (app strings and form itext)')
    .option('--json', 'print JSON on stdout');
}

function stateFlags(f: AppFlags) {
  if (f.state === undefined) return undefined;
  return {
    state: f.state,
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(f.domain !== undefined ? { domain: f.domain } : {}),
    quiet: true,
  };
}

function fail(flags: AppFlags, e: unknown, status: number): never {
  const j = errorJson(e);
  if (flags.json) process.stdout.write(`${JSON.stringify(j)}\n`);
  process.stderr.write(`fieldsim app: ${j.error.message} [${j.error.code}]\n`);
  throw new CliExit(status);
}

function readAnswers(file: string): AppAnswers {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new XFormError('answer-invalid', `cannot read --answers ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new XFormError(
      'answer-invalid',
      `--answers ${file} is not valid JSON or YAML: ${(e as Error).message}`,
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new XFormError('answer-invalid', `--answers ${file} must be a map from question path to value`);
  const out: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'boolean') out[k] = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
      out[k] = v.map(String);
    else if (v === null) out[k] = '';
    else
      throw new XFormError(
        'answer-invalid',
        `--answers ${file}: the value for ${k} is not a string, number or list`,
      );
  }
  return out;
}

async function fill(appArg: string, flags: FillFlags): Promise<void> {
  let result: ReturnType<typeof fillAppForm>;
  try {
    const app = await loadAppArg(appArg, flags);
    const device = await deviceDataFor(app, {
      ...(flags.restore !== undefined ? { restore: flags.restore } : {}),
      ...(flags.state !== undefined ? { stateFlags: stateFlags(flags) ?? {} } : {}),
    });
    result = fillAppForm({
      app,
      form: flags.form,
      device,
      cases: flags.case ?? [],
      datums: Object.fromEntries(flags.datum ?? []),
      answers: flags.answers === undefined ? {} : readAnswers(flags.answers),
      auto: flags.auto === true,
      seed: flags.seed ?? 1,
      ...(flags.lang !== undefined ? { lang: flags.lang } : {}),
    });
  } catch (e) {
    if (e instanceof CliExit || !isFieldsimError(e)) throw e;
    fail(flags, e, 2);
  }
  for (const ref of result.unanswerable)
    process.stderr.write(`fieldsim app fill: --auto found no value ${ref} accepts\n`);
  if (result.xml === undefined) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ form: result.form, errors: result.errors })}\n`);
    for (const i of result.errors) process.stderr.write(`${i.ref}: ${i.message} [${i.code}]\n`);
    throw new CliExit(1);
  }
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ form: result.form, xml: result.xml, caseBlocks: result.caseBlocks, errors: [] })}\n`,
    );
  else process.stdout.write(`${result.xml}\n`);
}

interface CheckLine {
  command: string;
  xmlns: string;
  ok: boolean;
  error?: { code: string; message: string };
  skipped?: string;
}

async function check(appArg: string, flags: AppFlags & { seed?: number }): Promise<void> {
  let app: CommCareApp;
  let lines: CheckLine[];
  try {
    app = await loadAppArg(appArg, flags);
    const device = await deviceDataFor(app, {
      ...(flags.restore !== undefined ? { restore: flags.restore } : {}),
      ...(flags.state !== undefined ? { stateFlags: stateFlags(flags) ?? {} } : {}),
    });
    lines = checkApp(app, (entry) =>
      fillAppForm({
        app,
        form: entry.commandId,
        device,
        auto: true,
        seed: flags.seed ?? 1,
        ...(flags.lang !== undefined ? { lang: flags.lang } : {}),
      }),
    );
  } catch (e) {
    if (e instanceof CliExit || !isFieldsimError(e)) throw e;
    fail(flags, e, 2);
  }
  const failed = lines.filter((l) => !l.ok && l.skipped === undefined).length;
  const skipped = lines.filter((l) => l.skipped !== undefined).length;
  const summary = {
    app: app.name,
    version: app.version,
    forms: lines.length,
    ok: lines.length - failed - skipped,
    failed,
    skipped,
  };
  for (const l of lines) {
    if (flags.json) process.stdout.write(`${JSON.stringify(l)}\n`);
    else {
      const state =
        l.skipped !== undefined
          ? `skipped (${l.skipped})`
          : l.ok
            ? 'ok'
            : `FAILED ${l.error?.code}: ${l.error?.message}`;
      process.stdout.write(`${l.command || '(no entry)'}  ${l.xmlns}  ${state}\n`);
    }
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ summary })}\n`);
  else
    process.stdout.write(
      `${summary.app} build ${summary.version}: ${summary.forms} forms, ${summary.ok} ok, ${failed} failed, ${skipped} skipped\n`,
    );
  if (failed > 0) throw new CliExit(1);
}

/**
 * Every form of the app: each entry that opens a form and needs no case is filled with
 * `auto`; the others are parsed only (their logic needs a case to run); a form no entry
 * opens is parsed too, so a broken file never goes unnoticed.
 */
export function checkApp(
  app: CommCareApp,
  fillEntry: (entry: SuiteEntry) => ReturnType<typeof fillAppForm>,
): CheckLine[] {
  const lines: CheckLine[] = [];
  const seen = new Set<string>();
  for (const entry of app.entries.values()) {
    if (entry.kind !== 'entry' || entry.formXmlns === undefined) continue;
    const xmlns = entry.formXmlns;
    seen.add(xmlns);
    if (!app.forms.has(xmlns)) {
      // Test apps and half-built apps point entries at forms the suite does not ship;
      // the phone shows such an entry and fails only when it is opened.
      lines.push({
        command: entry.commandId,
        xmlns,
        ok: true,
        skipped: 'the app has no form with this xmlns',
      });
      continue;
    }
    try {
      entryFormDef(app, entry);
      if (entryNeedsCase(entry)) {
        lines.push({ command: entry.commandId, xmlns, ok: true, skipped: 'needs a case' });
        continue;
      }
      const r = fillEntry(entry);
      if (r.xml !== undefined) lines.push({ command: entry.commandId, xmlns, ok: true });
      else {
        const first = r.errors[0];
        lines.push({
          command: entry.commandId,
          xmlns,
          ok: false,
          error: {
            code: first?.code ?? 'required',
            message: r.errors.map((i) => `${i.ref}: ${i.message}`).join('; '),
          },
        });
      }
    } catch (e) {
      if (!isFieldsimError(e)) throw e;
      // A lookup table the restore does not carry is missing data, not a broken app:
      // the form is fine once the user has the fixture (`app fill` still fails with it).
      if (e.code === 'instance-missing' && /jr:\/\/fixture\//.test(e.message)) {
        lines.push({ command: entry.commandId, xmlns, ok: true, skipped: `needs data: ${e.message}` });
        continue;
      }
      lines.push({ command: entry.commandId, xmlns, ok: false, error: { code: e.code, message: e.message } });
    }
  }
  for (const [xmlns, f] of app.forms) {
    if (seen.has(xmlns)) continue;
    try {
      parseXForm(f.xml, { file: f.path });
      lines.push({ command: '', xmlns, ok: true, skipped: 'no menu entry opens it' });
    } catch (e) {
      if (!isFieldsimError(e)) throw e;
      lines.push({ command: '', xmlns, ok: false, error: { code: e.code, message: e.message } });
    }
  }
  return lines;
}

async function show(appArg: string, flags: AppFlags): Promise<void> {
  let app: CommCareApp;
  try {
    app = await loadAppArg(appArg, flags);
  } catch (e) {
    if (e instanceof CliExit || !isFieldsimError(e)) throw e;
    fail(flags, e, 2);
  }
  const out = describeApp(app, flags.lang);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines = [
    `${out.name} (build ${out.version}, id ${out.uniqueId})`,
    `languages: ${out.languages.join(', ')}`,
    `case types: ${out.caseTypes.join(', ') || '(none)'}`,
  ];
  for (const m of out.menus) {
    lines.push(`${m.id}  ${m.text}${m.relevant ? `  [shown when ${m.relevant}]` : ''}`);
    for (const f of m.forms)
      lines.push(
        `  ${f.command}  ${f.text}  ${f.xmlns ?? ''}${f.caseTypes.length ? `  (selects ${f.caseTypes.join(', ')})` : ''}`,
      );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export interface AppDescription {
  name: string;
  uniqueId: string;
  version: number;
  languages: string[];
  caseTypes: string[];
  menus: {
    id: string;
    text: string;
    root: string;
    relevant?: string;
    forms: { command: string; text: string; xmlns?: string; caseTypes: string[]; datums: string[] }[];
  }[];
}

/** `app show`: what a QA lead needs to know to script the app. */
export function describeApp(app: CommCareApp, lang?: string): AppDescription {
  const ctx = { instance: () => undefined, lang: lang ?? app.defaultLanguage };
  const safe = (fn: () => string, fallback: string): string => {
    try {
      return fn();
    } catch {
      return fallback;
    }
  };
  const caseTypes = new Set<string>();
  const typesIn = (s: string): string[] =>
    [...s.matchAll(/@case_type\s*=\s*['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
  const menus: AppDescription['menus'] = [];
  for (const m of app.menus) {
    const forms = m.commands.flatMap((c) => {
      const e = app.entries.get(c.id);
      if (!e) return [];
      const types = e.datums.flatMap((d) => (d.kind === 'entity' ? typesIn(d.nodeset) : []));
      for (const t of types) caseTypes.add(t);
      return [
        {
          command: e.commandId,
          text: safe(() => displayText(makeScope(app, ctx, []), e.display.text), e.commandId),
          ...(e.formXmlns !== undefined ? { xmlns: e.formXmlns } : {}),
          caseTypes: types,
          datums: e.datums.map((d) => d.id),
        },
      ];
    });
    menus.push({
      id: m.id,
      text: safe(() => menuText(app, m.id, ctx), m.id),
      root: m.root,
      ...(m.relevant !== undefined ? { relevant: m.relevant } : {}),
      forms,
    });
  }
  for (const f of app.forms.values())
    for (const t of f.xml.matchAll(/<case_type>([^<]+)<\/case_type>/g))
      caseTypes.add((t[1] as string).trim());
  return {
    name: app.name,
    uniqueId: app.uniqueId,
    version: app.version,
    languages: [...app.languages],
    caseTypes: [...caseTypes].sort(),
    menus,
  };
}

export function registerApp(program: Command): void {
  const app = program
    .command('app')
    .description('Run a real CommCare app (suite + XForms): fill, check, show');
  appOptions(
    app
      .command('fill')
      .description('Fill one form of the app and print the submission')
      .argument('<app>', '.ccz file, app folder, or server URL (with --app-id)')
      .requiredOption(
        '--form <id>',
        'command id (m0-f0), form xmlns, or "Menu/Form" in the default language',
      ),
  )
    .option('--case <case_id>', 'case for the next case-selection datum (repeatable, in order)', collect)
    .option('--datum <name=value>', 'set a session datum (repeatable)', collectDatum)
    .option('--answers <file>', 'JSON or YAML map from question path (/data/q, /data/rep[2]/q) to value')
    .option('--auto', 'generate values for relevant required questions left empty')
    .option('--seed <n>', 'seed for --auto and random()', intArg)
    .action((appArg: string, flags: FillFlags) => fill(appArg, flags));
  appOptions(
    app
      .command('check')
      .description('Load every form; fill each that needs no case with --auto; one line per form')
      .argument('<app>', '.ccz file, app folder, or server URL (with --app-id)'),
  )
    .option('--seed <n>', 'seed for generated answers', intArg)
    .action((appArg: string, flags: AppFlags & { seed?: number }) => check(appArg, flags));
  appOptions(
    app
      .command('show')
      .description('Menus, forms, case types and languages of the app')
      .argument('<app>', '.ccz file, app folder, or server URL (with --app-id)'),
  ).action((appArg: string, flags: AppFlags) => show(appArg, flags));
}
