import { Command, CommanderError } from 'commander';
import { CliExit } from './cli-exit.ts';

/**
 * The `fieldsim` command line (DESIGN.md section 7). Each command lives in
 * src/cli/commands/<name>.ts and exports `register<Name>(program)`; add new ones to
 * `COMMANDS` below. Commands set `process.exitCode` (or throw `CliExit`) rather
 * than calling `process.exit`, so tests can run them in-process.
 */

export { CliExit } from './cli-exit.ts';

type Registrar = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: the modules reach for most
 * of the core, the emulator (seed, sink), the runner and Excel export, and loading them
 * all cost every command ~25 MB of RSS and their start-up time (`fieldsim restore` of 50k
 * cases peaked at 218 MB with everything loaded, against the 200 MB of issue 15).
 */
const COMMANDS: Record<string, () => Promise<Registrar[]>> = {
  'restore-file': async () => [(await import('./commands/restore-file.ts')).registerRestoreFile],
  seed: async () => [(await import('./commands/seed.ts')).registerSeed],
  login: async () => [(await import('./commands/login.ts')).registerLogin],
  restore: async () => [(await import('./commands/restore.ts')).registerRestore],
  sync: async () => [(await import('./commands/sync.ts')).registerSync],
  cases: async () => [(await import('./commands/cases.ts')).registerCases],
  submit: async () => [(await import('./commands/submit.ts')).registerSubmit],
  register: async () => [(await import('./commands/register.ts')).registerRegister],
  outbox: async () => [(await import('./commands/outbox.ts')).registerOutbox],
  run: async () => [(await import('./commands/run.ts')).registerRun],
  report: async () => [(await import('./commands/report.ts')).registerReport],
  app: async () => [(await import('./commands/app.ts')).registerApp],
  sink: async () => [(await import('./commands/sink.ts')).registerSink],
  formlist: async () => [(await import('./commands/openrosa.ts')).registerFormList],
  form: async () => [(await import('./commands/openrosa.ts')).registerForm],
  export: async () => [(await import('./commands/export.ts')).registerExport],
};

/**
 * The program with `only` registered, or every command (help, a mistyped name: commander
 * then lists them all, in this order).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command();
  program
    .name('fieldsim')
    .description('Offline-first CommCare mobile-worker simulator: restore, cases, forms and QA runs')
    .exitOverride();
  const loaders =
    only !== undefined && Object.hasOwn(COMMANDS, only) ? [COMMANDS[only]] : Object.values(COMMANDS);
  const registrars = await Promise.all(loaders.map((load) => load?.() ?? []));
  for (const register of registrars.flat()) register(program);
  return program;
}

/** The command `argv` names: its first word after the script that is not an option. */
export function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}

/** Runs the CLI with `argv` (as process.argv) and resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(commandOf(argv));
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CliExit) return e.status;
    if (e instanceof CommanderError) return e.exitCode;
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return 1;
  }
}
