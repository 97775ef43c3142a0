import { Command } from 'commander';
import type { RestoreFlowResult } from '../../core/sync/restore-flow.ts';
import { addWorkerOptions, progressPrinter, runCommand, type WorkerFlags } from '../worker-options.ts';
import { withWorker } from '../worker-session.ts';

/**
 * `fieldsim restore`: a full restore (no `since`), replacing the local cases atomically;
 * forms not yet sent keep their case changes (the core carries them over the switch). Sends
 * nothing: `sync` is the command that sends first.
 */

export interface RestoreJson {
  restore: RestoreFlowResult;
  cases: { total: number; open: number; closed: number };
}

export function registerRestore(program: Command): void {
  const cmd = new Command('restore').description(
    "full restore of the worker's cases from the server (replaces the local case database)",
  );
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<WorkerFlags>();
    await runCommand('restore', flags, () =>
      withWorker('restore', flags, 'required', async (w) => {
        w.connect();
        const restore = await w.session.restore({ onProgress: progressPrinter(flags, 'restore') });
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
