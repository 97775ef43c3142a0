import type { Command } from 'commander';
import { HqApiClient } from '../../core/api/hq-api-client.ts';
import type { ODataKind } from '../../core/api/odata-client.ts';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';
import { CliExit } from '../cli-exit.ts';
import { type ExportFormat, formatOfPath, openTableWriter } from '../export/table-writer.ts';
import { DEFAULT_SERVER, EXIT } from '../worker-options.ts';

interface ExportFlags {
  server?: string;
  domain?: string;
  user?: string;
  apiKey?: string;
  password?: string;
  config?: string;
  xmlns?: string;
  type?: string;
  format?: string;
  out?: string;
  top?: string;
  json?: boolean;
  quiet?: boolean;
}

class ExportUsage extends Error {}

/**
 * `fieldsim export forms|cases`: pulls an OData feed of HQ (or the emulator) page by page,
 * following `@odata.nextLink`, into CSV, XLSX or JSON, with progress on stderr. The feed is
 * named by its configuration id (`--config`), or by the xmlns (`--xmlns`, forms) or case
 * type (`--type`, cases) the emulator's configuration index resolves. Credentials are a
 * web user's, as for every HQ data API.
 */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export forms or cases from the OData feeds to CSV, XLSX or JSON')
    .argument('<what>', 'forms or cases')
    .option('--server <url>', `HQ or emulator base URL (env FIELDSIM_SERVER; default ${DEFAULT_SERVER})`)
    .option('--domain <domain>', 'project space (env FIELDSIM_DOMAIN)')
    .option('--user <web_user>', 'web user with data access (env FIELDSIM_USER)')
    .option('--api-key <key>', "the web user's API key; prefer env FIELDSIM_API_KEY")
    .option('--password <password>', "the web user's password; prefer env FIELDSIM_PASSWORD")
    .option('--config <id>', 'export configuration id (the <id> of .../odata/<forms|cases>/<id>/)')
    .option('--xmlns <xmlns>', 'forms: the form xmlns to export')
    .option('--type <case_type>', 'cases: the case type to export')
    .option('--format <format>', 'csv, xlsx or json (default: from --out, else csv)')
    .option('--out <file>', 'output file (default stdout; XLSX needs a file)')
    .option('--top <n>', 'at most this many rows')
    .option('--json', 'print a JSON summary on stdout (needs --out)')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (what: string, flags: ExportFlags) => {
      try {
        await runExport(what, flags);
      } catch (e) {
        const usage = e instanceof ExportUsage;
        if (!usage && !isFieldsimError(e)) throw e;
        const code = usage ? 'invalid-argument' : (e as { code: string }).code;
        const message = (e as Error).message;
        if (flags.json) console.log(JSON.stringify({ error: { code, message } }));
        else console.error(`fieldsim export: ${message}`);
        throw new CliExit(usage ? EXIT.usage : EXIT.failed);
      }
    });
}

async function runExport(what: string, flags: ExportFlags): Promise<void> {
  const env = process.env;
  if (what !== 'forms' && what !== 'cases') throw new ExportUsage(`export forms or cases, not '${what}'`);
  const kind: ODataKind = what;
  const server = flags.server ?? env.FIELDSIM_SERVER ?? DEFAULT_SERVER;
  const domain = flags.domain ?? env.FIELDSIM_DOMAIN;
  const user = flags.user ?? env.FIELDSIM_USER;
  const key = flags.apiKey ?? env.FIELDSIM_API_KEY;
  const password = flags.password ?? env.FIELDSIM_PASSWORD;
  if (!domain) throw new ExportUsage('--domain is required (or FIELDSIM_DOMAIN)');
  if (!user) throw new ExportUsage('--user is required: a web user (or FIELDSIM_USER)');
  if (!key && !password)
    throw new ExportUsage('--api-key or --password is required (or FIELDSIM_API_KEY / FIELDSIM_PASSWORD)');
  const target = flags.config ?? (kind === 'forms' ? flags.xmlns : flags.type);
  if (!target)
    throw new ExportUsage(
      kind === 'forms' ? 'give --config <id> or --xmlns <xmlns>' : 'give --config <id> or --type <case_type>',
    );
  const format = (flags.format ?? formatOfPath(flags.out) ?? 'csv').toLowerCase();
  if (format !== 'csv' && format !== 'xlsx' && format !== 'json')
    throw new ExportUsage(`--format is csv, xlsx or json, not '${format}'`);
  if (format === 'xlsx' && (!flags.out || flags.out === '-'))
    throw new ExportUsage('XLSX needs --out <file>');
  if (flags.json && (!flags.out || flags.out === '-')) throw new ExportUsage('--json needs --out <file>');
  const top = flags.top === undefined ? undefined : Number(flags.top);
  if (top !== undefined && (!Number.isInteger(top) || top < 0))
    throw new ExportUsage('--top takes a whole number');

  const api = new HqApiClient({
    serverUrl: server,
    domain,
    auth: key
      ? { kind: 'api-key', username: user, key }
      : { kind: 'basic', username: user, password: password! },
  });
  const configId = flags.config ?? (await api.odata.resolve(kind, target));
  const started = performance.now();
  const columns = await api.odata.columns(kind, configId);
  const writer = openTableWriter(format as ExportFormat, flags.out, configId);
  await writer.begin(columns);
  let rows = 0;
  let pages = 0;
  const progress = !flags.quiet && process.stderr.isTTY !== undefined;
  for await (const page of api.odata.pages(kind, configId, top === undefined ? {} : { top })) {
    await writer.rows(page.value);
    rows += page.value.length;
    pages++;
    if (progress) process.stderr.write(`\rfieldsim export: ${rows} ${kind} (${pages} pages)`);
  }
  await writer.end();
  const seconds = (performance.now() - started) / 1000;
  if (progress) process.stderr.write(`\rfieldsim export: ${rows} ${kind} in ${seconds.toFixed(1)} s\n`);
  if (flags.json)
    console.log(
      JSON.stringify({
        kind,
        config: configId,
        format,
        out: flags.out,
        rows,
        pages,
        columns: columns.length,
        seconds,
      }),
    );
}
