import { Command } from 'commander';
import type { RestoreFlowResult } from '../../core/sync/restore-flow.ts';
import { addWorkerOptions, progressPrinter, runCommand, type WorkerFlags } from '../worker-options.ts';
import { withWorker } from '../worker-session.ts';

/**
 * `fieldsim restore`: a full restore (no `since`), replacing the local cases atomically;
 * forms not yet sent keep their case changes (the core carries them over the switch). Sends
 * nothing: `sync` is the command that sends first.
 *
 * `--no-purge` keeps every case of the payload, skipping the phone purge (closed cases
 * nothing open needs, cases of other owners): for looking at exactly what the server sent.
 * The next `sync` purges again, as a phone would.
 */

interface RestoreFlags extends WorkerFlags {
  /** commander's `--no-purge`: false when given. */
  purge: boolean;
}

export interface RestoreJson {
  restore: RestoreFlowResult;
  cases: { total: number; open: number; closed: number };
}

export function registerRestore(program: Command): void {
  const cmd = new Command('restore')
    .description("full restore of the worker's cases from the server (replaces the local case database)")
    .option('--no-purge', 'keep every case the server sent (skip the phone purge; the next sync purges)');
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<RestoreFlags>();
    await runCommand('restore', flags, () =>
      withWorker('restore', flags, 'required', async (w) => {
        w.connect();
        const restore = await w.session.restore({
          onProgress: progressPrinter(flags, 'restore'),
          ...(flags.purge === false ? { purge: false } : {}),
        });
        const s = await w.session.caseDb.stats();
        const json: RestoreJson = { restore, cases: { total: s.total, open: s.open, closed: s.closed } };
        return {
          json,
          text: [
            `${restore.mode} restore: ${restore.cases} cases on this device, ${restore.purged} purged, ` +
              `${(restore.durationMs / 1000).toFixed(1)} s`,
            `cases: ${s.total} (${s.open} open, ${s.closed} closed); sync token ${restore.syncToken ?? '(none)'}`,
          ],
        };
      }),
    );
  });
  program.addCommand(cmd);
}
