import { Command, CommanderError } from 'commander';
import { CliExit } from './cli-exit.ts';
import { registerApp } from './commands/app.ts';
import { registerCases } from './commands/cases.ts';
import { registerExport } from './commands/export.ts';
import { registerLogin } from './commands/login.ts';
import { registerForm, registerFormList } from './commands/openrosa.ts';
import { registerOutbox } from './commands/outbox.ts';
import { registerRegister } from './commands/register.ts';
import { registerReport } from './commands/report.ts';
import { registerRestore } from './commands/restore.ts';
import { registerRestoreFile } from './commands/restore-file.ts';
import { registerRun } from './commands/run.ts';
import { registerSeed } from './commands/seed.ts';
import { registerSink } from './commands/sink.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerSync } from './commands/sync.ts';

/**
 * The `fieldsim` command line (DESIGN.md section 7). Each command lives in
 * src/cli/commands/<name>.ts and exports `register<Name>(program)`; add new ones to
 * `buildProgram` below. Commands set `process.exitCode` (or throw `CliExit`) rather
 * than calling `process.exit`, so tests can run them in-process.
 */

export { CliExit } from './cli-exit.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fieldsim')
    .description('Offline-first CommCare mobile-worker simulator: restore, cases, forms and QA runs')
    .exitOverride();
  registerRestoreFile(program);
  registerSeed(program);
  registerLogin(program);
  registerRestore(program);
  registerSync(program);
  registerCases(program);
  registerSubmit(program);
  registerRegister(program);
  registerOutbox(program);
  registerRun(program);
  registerReport(program);
  registerApp(program);
  registerSink(program);
  registerFormList(program);
  registerForm(program);
  registerExport(program);
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CliExit) return e.status;
    if (e instanceof CommanderError) return e.exitCode;
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return 1;
  }
}
