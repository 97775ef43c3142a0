import { type Command, CommanderError, InvalidArgumentError } from 'commander';
import { FieldsimError, isFieldsimError } from '../core/errors/fieldsim-error.ts';
import { HttpError } from '../core/errors/http-error.ts';
import { fullUsername } from '../core/http/basic-auth.ts';
import type { RestoreProgress } from '../core/sync/session-types.ts';
import { CliExit } from './cli-exit.ts';
import { DEFAULT_STATE_DIR, type StateStore, type WorkerIdentity } from './state/state-store.ts';

/**
 * What the single-worker commands (`login`, `restore`, `sync`, `cases`, `submit`,
 * `outbox`; issue 7) share: their flags, where a value comes from (flag, then environment,
 * then the last login kept in the state folder, then a default), credentials, output
 * (`--json` on stdout, progress on stderr) and exit statuses.
 *
 * Secrets: `--password`/`--api-key` work, but `FIELDSIM_PASSWORD`/`FIELDSIM_API_KEY` keep
 * them out of shell history and `ps`. They are never written to the state folder and never
 * printed.
 */

/** Exit statuses of the worker commands (a contract; docs/cli.md). */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The operation failed: network, server, credentials, a form left waiting or set aside, state in use. */
  failed: 1,
  /** Usage: bad or missing flags or arguments, no login yet for this user. */
  usage: 2,
} as const;

export const DEFAULT_SERVER = 'http://127.0.0.1:8000';

export interface WorkerFlags {
  server?: string;
  domain?: string;
  user?: string;
  /** "Login as": the mobile worker a web user (`user`) acts for. */
  as?: string;
  password?: string;
  apiKey?: string;
  state?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export type Credentials = { kind: 'password'; secret: string } | { kind: 'api-key'; secret: string };

/** A usage mistake: exit status 2. */
export class UsageError extends FieldsimError {
  constructor(message: string) {
    super('invalid-argument', message);
  }
}

/** Adds the flags every worker command takes, and makes commander's own usage errors exit 2. */
export function addWorkerOptions(cmd: Command): Command {
  return cmd
    .option(
      '--server <url>',
      `HQ or emulator base URL (env FIELDSIM_SERVER; default: last login, else ${DEFAULT_SERVER})`,
    )
    .option('--domain <domain>', 'project space (env FIELDSIM_DOMAIN; default: last login)')
    .option('--user <username>', 'mobile worker, short or full name (env FIELDSIM_USER; default: last login)')
    .option(
      '--as <worker>',
      "login as: --user is a web user acting for this mobile worker (env FIELDSIM_AS; default: the last login's, when --user is not given)",
    )
    .option(
      '--password <password>',
      'password; prefer env FIELDSIM_PASSWORD (flags show in ps and shell history)',
    )
    .option('--api-key <key>', 'HQ API key instead of a password; prefer env FIELDSIM_API_KEY')
    .option('--state <dir>', `state folder (env FIELDSIM_STATE; default ${DEFAULT_STATE_DIR}/)`)
    .option('--json', 'print one JSON object on stdout')
    .option('-q, --quiet', 'no progress on stderr')
    .option('--verbose', 'stack traces with errors (also env DEBUG)')
    .exitOverride(usageExit);
}

/**
 * commander reports its own usage errors (unknown option, missing argument) with status 1;
 * the worker commands promise 2 for those. Help and version keep their status 0.
 */
export function usageExit(err: CommanderError): never {
  if (err.exitCode === 0) throw err;
  throw new CommanderError(EXIT.usage, err.code, err.message);
}

/** Options of the command merged with its parents' (`outbox send` takes flags given to `outbox`). */
export function flagsOf<T extends WorkerFlags>(cmd: Command): T {
  return cmd.optsWithGlobals() as T;
}

export function stateDir(flags: WorkerFlags): string {
  return flags.state ?? process.env.FIELDSIM_STATE ?? DEFAULT_STATE_DIR;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** A base URL without credentials or trailing slash; http(s) only. */
export function normaliseServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server: not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--server: only http and https URLs are supported (${url.protocol})`);
  if (url.username !== '' || url.password !== '')
    throw new UsageError(
      '--server: put credentials in --password/--api-key or the environment, not in the URL',
    );
  if (url.search !== '' || url.hash !== '')
    throw new UsageError('--server: no query or fragment, only the base URL');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Server, domain, full username and (login as) the worker acted for: flag, environment, the
 * last login (same domain), default. The last login's `as` comes with its user only: a
 * `--user` given alone means that user's own data.
 */
export function resolveIdentity(flags: WorkerFlags, store: StateStore): WorkerIdentity {
  const env = process.env;
  const flagServer = nonEmpty(flags.server) ?? nonEmpty(env.FIELDSIM_SERVER);
  const flagDomain = nonEmpty(flags.domain) ?? nonEmpty(env.FIELDSIM_DOMAIN);
  const flagUser = nonEmpty(flags.user) ?? nonEmpty(env.FIELDSIM_USER);
  const flagAs = nonEmpty(flags.as) ?? nonEmpty(env.FIELDSIM_AS);
  const last = flagServer && flagDomain && flagUser ? null : store.readCurrent();
  const server = normaliseServer(flagServer ?? last?.server ?? DEFAULT_SERVER);
  const domain = flagDomain ?? last?.domain;
  if (domain === undefined)
    throw new UsageError(`--domain is required (or FIELDSIM_DOMAIN): no earlier login in ${store.root}`);
  // The last login's user only stands in for the same project space on the same server.
  const sameAsLast =
    last !== null && last.domain.toLowerCase() === domain.toLowerCase() && last.server === server;
  const user = flagUser ?? (sameAsLast ? last.username : undefined);
  if (user === undefined)
    throw new UsageError(
      `--user is required (or FIELDSIM_USER): no earlier login for ${domain} on ${server}`,
    );
  const username = fullUsername(user, domain);
  const asUser = flagAs ?? (flagUser === undefined && sameAsLast ? last.as : undefined);
  if (asUser === undefined) return { server, domain, username };
  const as = fullUsername(asUser, domain);
  if (as.toLowerCase() === username.toLowerCase())
    throw new UsageError(`--as ${asUser} is --user itself: leave --as out to use that user's own data`);
  return { server, domain, username, as };
}

/** `admin@example.com as worker1@demo.commcarehq.org`, or the user alone. */
export function describeIdentity(id: WorkerIdentity): string {
  return id.as === undefined ? id.username : `${id.username} as ${id.as}`;
}

/** Password or API key: flags first, then FIELDSIM_PASSWORD / FIELDSIM_API_KEY; both at once is a usage error. */
export function resolveCredentials(flags: WorkerFlags): Credentials | null {
  const pick = (
    password: string | undefined,
    apiKey: string | undefined,
    where: string,
  ): Credentials | null => {
    if (password !== undefined && apiKey !== undefined)
      throw new UsageError(`Give a password or an API key, not both (${where})`);
    if (password !== undefined) return { kind: 'password', secret: password };
    if (apiKey !== undefined) return { kind: 'api-key', secret: apiKey };
    return null;
  };
  const given = (v: string | undefined, name: string): string | undefined => {
    if (v === undefined) return undefined;
    if (v === '') throw new UsageError(`${name} is empty`);
    return v;
  };
  return (
    pick(given(flags.password, '--password'), given(flags.apiKey, '--api-key'), 'flags') ??
    pick(
      given(process.env.FIELDSIM_PASSWORD || undefined, 'FIELDSIM_PASSWORD'),
      given(process.env.FIELDSIM_API_KEY || undefined, 'FIELDSIM_API_KEY'),
      'FIELDSIM_PASSWORD and FIELDSIM_API_KEY are both set',
    )
  );
}

export function requireCredentials(flags: WorkerFlags, command: string): Credentials {
  const c = resolveCredentials(flags);
  if (c === null)
    throw new UsageError(
      `${command} talks to the server: give FIELDSIM_PASSWORD or FIELDSIM_API_KEY (or --password / --api-key)`,
    );
  return c;
}

// --- output -------------------------------------------------------------------------------

/** What a command prints when it is done: `json` with --json, `text` lines otherwise. */
export interface CommandOutput {
  json: unknown;
  text: string[];
  /** Defaults to EXIT.ok. */
  status?: number;
}

/**
 * Case names, properties and server messages are other people's data: on a terminal, an
 * escape sequence in them could rewrite the screen. Human output replaces control
 * characters (tab and newline stay); JSON escapes them anyway.
 */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '\ufffd');
}

export function print(flags: WorkerFlags, out: CommandOutput): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(out.json)}\n`);
  else if (out.text.length > 0) process.stdout.write(`${printable(out.text.join('\n'))}\n`);
}

/** Progress and notes go to stderr, so stdout stays the command's answer. */
export function note(flags: WorkerFlags, line: string): void {
  if (!flags.quiet) process.stderr.write(`${printable(line)}\n`);
}

function exitFor(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (isFieldsimError(e) && (e.code === 'invalid-argument' || e.code === 'not-logged-in')) return EXIT.usage;
  return EXIT.failed;
}

/** `{"error": {"code", "message", "status"?}}`: the JSON shape of every failure. */
export function errorJson(e: unknown): { error: { code: string; message: string; status?: number } } {
  if (isFieldsimError(e)) {
    const error: { code: string; message: string; status?: number } = { code: e.code, message: e.message };
    if (e instanceof HttpError) error.status = e.status;
    return { error };
  }
  return { error: { code: 'internal', message: e instanceof Error ? e.message : String(e) } };
}

/**
 * Runs a command body: prints its output, maps failures to an exit status and one clear
 * message (`fieldsim <command>: <message> [<code>]`), a stack trace only with --verbose or
 * DEBUG. Ends by throwing `CliExit` for a non-zero status, as main.ts expects.
 */
export async function runCommand(
  command: string,
  flags: WorkerFlags,
  body: () => Promise<CommandOutput>,
): Promise<void> {
  let status: number;
  try {
    const out = await body();
    print(flags, out);
    status = out.status ?? EXIT.ok;
  } catch (e) {
    if (e instanceof CliExit || e instanceof CommanderError) throw e;
    const j = errorJson(e);
    if (flags.json) process.stdout.write(`${JSON.stringify(j)}\n`);
    process.stderr.write(`fieldsim ${command}: ${printable(j.error.message)} [${j.error.code}]\n`);
    if (flags.verbose || process.env.DEBUG)
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    status = exitFor(e);
  }
  if (status !== EXIT.ok) throw new CliExit(status);
}

/** Restore progress on stderr: rewritten in place on a terminal, a line per phase and every 2 s otherwise. */
export function progressPrinter(flags: WorkerFlags, label: string): (p: RestoreProgress) => void {
  if (flags.quiet) return () => {};
  const tty = process.stderr.isTTY === true;
  let lastPhase = '';
  let lastAt = 0;
  return (p) => {
    const now = Date.now();
    if (!tty && p.phase === lastPhase && now - lastAt < 2000) return;
    lastPhase = p.phase;
    lastAt = now;
    const items = p.itemsTotal === undefined ? `${p.itemsDone}` : `${p.itemsDone}/${p.itemsTotal}`;
    const server = p.serverProgress ? `, server ${p.serverProgress.done}/${p.serverProgress.total}` : '';
    const line = `${label}: ${p.phase} ${formatBytes(p.bytes)}, ${items} items, ${p.casesWritten} cases${server}`;
    if (tty) process.stderr.write(`\r\x1b[K${line}${p.phase === 'done' ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * `k=v` pairs of repeatable flags (`--prop`, `--answer`); `=` inside the value is kept.
 * Parsers throw commander's InvalidArgumentError, which it reports as a usage error.
 */
export function collectPair(value: string, previous: [string, string][] = []): [string, string][] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}

/** Positive integer option parser (`--limit`, `--offset`). */
export function intOption(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}
