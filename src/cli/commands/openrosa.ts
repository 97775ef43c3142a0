import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { SubmitOutcome } from '../../core/http/classify-response.ts';
import type { SubmitAttachment } from '../../core/http/hq-client.ts';
import { fillXForm } from '../../core/openrosa/fill-xform.ts';
import type { FormListEntry } from '../../core/openrosa/form-list.ts';
import { OpenRosaClient } from '../../core/openrosa/openrosa-client.ts';
import {
  collectPair,
  EXIT,
  note,
  runCommand,
  UsageError,
  usageExit,
  type WorkerFlags,
} from '../worker-options.ts';

/**
 * Generic OpenRosa servers (ODK Central, ODK Aggregate, Kobo) from the command line:
 *
 *   fieldsim formlist --openrosa URL
 *   fieldsim form fill <formID> --openrosa URL [--answer q=v ...] [--auto] [--out FILE] [--submit]
 *   fieldsim submit --openrosa URL --xml FILE [--attach name=path ...]
 *
 * URL is the base under which `formList` and `submission` live (a Central project
 * `https://central/v1/projects/1`, an app-user link `https://central/v1/key/<token>/projects/1`,
 * an Aggregate or KoBoCAT root); either endpoint's own URL works too. Credentials come
 * from FIELDSIM_OPENROSA_USER / FIELDSIM_OPENROSA_PASSWORD only (an app-user link needs
 * none): a password on the command line shows in `ps` and shell history.
 *
 * No outbox here: the instance file is the durable copy. `form fill` writes it before it
 * sends anything, and `submit` sends a file that is already on disk, so a failed send loses
 * nothing (run `fieldsim submit --openrosa URL --xml FILE` again: an identical resend is
 * accepted by the server as the same submission).
 */

export interface OpenRosaFlags extends WorkerFlags {
  openrosa?: string;
  deviceId?: string;
}

interface FillFlags extends OpenRosaFlags {
  answer?: [string, string][];
  auto?: boolean;
  seed?: number;
  out?: string;
  submit?: boolean;
}

/** `fieldsim submit --openrosa URL --xml FILE`: the JSON printed with --json. */
export interface OpenRosaSubmitJson {
  file: string;
  instanceId: string;
  formId: string;
  /** `sent` (201/202, an identical resend included), `quarantined` (rejected: 409 conflict, 413, 4xx), `failed` (retry later or credentials). */
  state: 'sent' | 'quarantined' | 'failed';
  outcome: SubmitOutcome;
}

export const DEFAULT_OPENROSA_DEVICE_ID = 'fieldsim:cli';

function client(flags: OpenRosaFlags): OpenRosaClient {
  const url = flags.openrosa;
  if (url === undefined || url === '') throw new UsageError('--openrosa <url> is required');
  const env = process.env;
  const username = env.FIELDSIM_OPENROSA_USER ?? '';
  const password = env.FIELDSIM_OPENROSA_PASSWORD ?? '';
  const c = new OpenRosaClient({
    url,
    username,
    password,
    deviceId: flags.deviceId ?? env.FIELDSIM_DEVICE_ID ?? DEFAULT_OPENROSA_DEVICE_ID,
  });
  if (username === '' && c.endpoints.appUserToken === undefined)
    note(flags, 'no FIELDSIM_OPENROSA_USER set and not an app-user link: requests go without credentials');
  return c;
}

function addOpenRosaOptions(cmd: Command): Command {
  return cmd
    .option(
      '--openrosa <url>',
      'OpenRosa server base (Central project or app-user link, Aggregate/Kobo root); user and password from env FIELDSIM_OPENROSA_USER / FIELDSIM_OPENROSA_PASSWORD',
    )
    .option(
      '--device-id <id>',
      `deviceID sent to the server (env FIELDSIM_DEVICE_ID; default ${DEFAULT_OPENROSA_DEVICE_ID})`,
    )
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'no progress on stderr')
    .option('--verbose', 'stack traces with errors (also env DEBUG)')
    .exitOverride(usageExit);
}

function stateOf(o: SubmitOutcome): OpenRosaSubmitJson['state'] {
  if (o.status === 'accepted') return 'sent';
  if (o.status === 'rejected') return 'quarantined';
  return 'failed';
}

function describeOutcome(o: SubmitOutcome): string {
  switch (o.status) {
    case 'accepted':
      return `sent (HTTP ${o.httpStatus})${o.message ? `: ${o.message}` : ''}`;
    case 'rejected':
      return `rejected as ${o.reason} (HTTP ${o.httpStatus}): ${o.message}`;
    case 'retry':
      return `not sent, try again later [${o.code}]: ${o.message}`;
    case 'auth':
      return `not sent, the server refused the credentials [${o.code}]: ${o.message}`;
  }
}

function rootIds(xml: string): { formId: string; instanceId: string } {
  const body = xml.replace(/^\uFEFF?\s*<\?xml[^>]*\?>\s*/, '');
  const root = /^<[^\s>/!?]+([^>]*)>/.exec(body)?.[1];
  if (root === undefined) throw new UsageError('the instance file is not an XML form instance');
  const formId = /\sid="([^"]*)"/.exec(root)?.[1];
  const instanceId = /<(?:[\w.-]+:)?instanceID>\s*([^<\s]+)\s*<\//.exec(body)?.[1];
  if (formId === undefined || formId === '')
    throw new UsageError('the instance root has no id="<formID>": OpenRosa servers match forms by it');
  if (instanceId === undefined)
    throw new UsageError(
      'the instance has no meta/instanceID: the server could not tell a resend from a new form',
    );
  return { formId, instanceId };
}

/**
 * One submission of a file on disk: HEAD pre-flight (a 204 with the accepted size; the
 * form is not uploaded when larger), then the multipart POST.
 */
async function sendFile(
  c: OpenRosaClient,
  file: string,
  xml: string,
  attachments: SubmitAttachment[],
): Promise<{ json: OpenRosaSubmitJson; text: string }> {
  const { formId, instanceId } = rootIds(xml);
  const limit = await c.preflight();
  const size = new TextEncoder().encode(xml).length + attachments.reduce((n, a) => n + a.blob.size, 0);
  if (limit !== undefined && size > limit)
    throw new FieldsimError(
      'submission-too-large',
      `${file} with its attachments is ${size} bytes; the server accepts ${limit}`,
    );
  const outcome = await c.submit({ xml, attachments });
  const json: OpenRosaSubmitJson = { file, instanceId, formId, state: stateOf(outcome), outcome };
  return { json, text: `${formId} ${instanceId}: ${describeOutcome(outcome)}` };
}

function readAttachments(pairs: [string, string][]): SubmitAttachment[] {
  return pairs.map(([name, path]) => {
    if (name === 'xml_submission_file' || basename(name) !== name)
      throw new UsageError(`--attach ${name}: the part name is a plain file name`);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new UsageError(
        `--attach ${name}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
    return { name, blob: new Blob([new Uint8Array(data)]) };
  });
}

/** `fieldsim submit --openrosa URL --xml FILE`, called from the submit command. */
export async function submitOpenRosa(flags: OpenRosaFlags & { xml?: string; attach?: [string, string][] }) {
  await runCommand('submit', flags, async () => {
    if (flags.xml === undefined) throw new UsageError('submit --openrosa needs --xml <instance file>');
    const c = client(flags);
    let xml: string;
    try {
      xml = readFileSync(flags.xml, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${flags.xml} (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    const { json, text } = await sendFile(c, flags.xml, xml, readAttachments(flags.attach ?? []));
    return { json, text: [text], status: json.state === 'sent' ? EXIT.ok : EXIT.failed };
  });
}

function findForm(list: FormListEntry[], id: string): FormListEntry {
  const f = list.find((x) => x.formId === id) ?? list.filter((x) => x.name === id).at(0);
  if (f === undefined)
    throw new FieldsimError(
      'form-not-found',
      `The form list has no form "${id}" (it has: ${list.map((x) => x.formId).join(', ') || 'none'})`,
    );
  return f;
}

export function registerFormList(program: Command): void {
  const cmd = new Command('formlist')
    .description('list the forms of a generic OpenRosa server (ODK Central, Aggregate, Kobo)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  FIELDSIM_OPENROSA_USER=me@example.org FIELDSIM_OPENROSA_PASSWORD=... \\\n' +
        '    fieldsim formlist --openrosa https://central.example.org/v1/projects/1\n' +
        '  fieldsim formlist --openrosa https://central.example.org/v1/key/<token>/projects/1 --json',
    );
  addOpenRosaOptions(cmd);
  cmd.action(async (_o: unknown, self: Command) => {
    const flags = self.opts<OpenRosaFlags>();
    await runCommand('formlist', flags, async () => {
      const c = client(flags);
      const forms = await c.formList();
      return {
        json: { server: c.endpoints.baseUrl, forms },
        text:
          forms.length === 0
            ? ['(no forms)']
            : forms.map(
                (f) => `${f.formId}\t${f.version ?? ''}\t${f.name}${f.manifestUrl ? '\t(media)' : ''}`,
              ),
      };
    });
  });
  program.addCommand(cmd);
}

function seedOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('--seed must be an integer');
  return n;
}

export function registerForm(program: Command): void {
  const form = new Command('form').description('forms of a generic OpenRosa server');
  const fill = new Command('fill')
    .description(
      'download a form from the formList, fill it with the XForm engine, save the instance (and send it)',
    )
    .argument('<formID>', 'the formID (or name) in the form list')
    .option('--answer <question=value>', 'answer by question id or /path (repeatable)', collectPair)
    .option('--auto', 'answer every remaining required question with a value the form accepts')
    .option('--seed <n>', 'seed of --auto (same seed, same answers)', seedOption)
    .option('--out <file>', 'where to write the instance (default ./<formID>-<instanceID>.xml)')
    .option('--submit', 'send the instance once written (as `fieldsim submit --openrosa URL --xml FILE`)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fieldsim form fill household --openrosa https://central.example.org/v1/key/<token>/projects/1 \\\n' +
        '    --answer head_name=Amina --answer members=4 --auto --submit',
    );
  addOpenRosaOptions(fill);
  fill.action(async (formId: string, _o: unknown, self: Command) => {
    const flags = self.opts<FillFlags>();
    await runCommand('form fill', flags, async () => {
      const c = client(flags);
      const entry = findForm(await c.formList(), formId);
      const xform = await c.downloadForm(entry);
      if ((await c.manifest(entry)).length > 0)
        note(flags, `${entry.formId} has media files; fieldsim fills it without them`);
      const r = fillXForm({
        form: xform,
        answers: Object.fromEntries(flags.answer ?? []),
        auto: flags.auto === true,
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        deviceId: c.deviceId,
        username: process.env.FIELDSIM_OPENROSA_USER ?? '',
      });
      if (!r.ok) {
        const lines = r.errors.map((e) => `${e.ref}: ${e.message} (${e.code})`);
        return {
          json: { formId: entry.formId, errors: r.errors, unanswerable: r.unanswerable },
          text: [`${entry.formId} is not complete:`, ...lines],
          status: EXIT.failed,
        };
      }
      const file =
        flags.out ?? `${entry.formId}-${r.instanceId.replace(/^uuid:/, '')}.xml`.replace(/[^\w.-]/g, '_');
      if (extname(file) === '') note(flags, `writing ${file} (no .xml extension)`);
      // The instance is on disk before any byte goes to the server.
      writeFileSync(file, r.xml);
      const base = { formId: entry.formId, version: r.version ?? null, instanceId: r.instanceId, file };
      if (!flags.submit) return { json: { ...base, submitted: null }, text: [`${file}\t${r.instanceId}`] };
      const sent = await sendFile(c, file, r.xml, []);
      return {
        json: { ...base, submitted: sent.json },
        text: [`${file}\t${r.instanceId}`, sent.text],
        status: sent.json.state === 'sent' ? EXIT.ok : EXIT.failed,
      };
    });
  });
  form.addCommand(fill);
  program.addCommand(form);
}
