import { Command } from 'commander';
import type { RestoreFlowResult } from '../../core/sync/restore-flow.ts';
import type { SendReport } from '../../core/sync/session-types.ts';
import { addWorkerOptions, EXIT, progressPrinter, runCommand, type WorkerFlags } from '../worker-options.ts';
import { withWorker } from '../worker-session.ts';

/**
 * `fieldsim sync`: the worker's Sync button (DESIGN.md 4): send the outbox first, in order,
 * then an incremental restore (`since` + `state=ccsh:`). When forms are still waiting after
 * the send, the core skips the restore (it would show the server's older case state); the
 * command then exits 1, as it does when the server set a form aside.
 */

export interface SyncJson {
  send: SendReport;
  /** null when the restore was skipped because forms are still waiting. */
  restore: RestoreFlowResult | null;
  outbox: { queued: number; quarantined: number };
}

export function registerSync(program: Command): void {
  const cmd = new Command('sync').description('send the outbox, then an incremental sync with the server');
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<WorkerFlags>();
    await runCommand('sync', flags, () =>
      withWorker('sync', flags, 'required', async (w) => {
        w.connect();
        const r = await w.session.syncAndSend({ onProgress: progressPrinter(flags, 'sync') });
        const c = await w.session.outboxCounts();
        const json: SyncJson = {
          send: r.send,
          restore: r.restore,
          outbox: { queued: c.queued + c.sending, quarantined: c.quarantined },
        };
        const text = [
          `sent ${r.send.sent} form(s); ${r.send.remaining} waiting, ${r.send.quarantined} set aside by the server` +
            (r.send.stoppedBy ? ` (stopped: ${r.send.stoppedBy.message} [${r.send.stoppedBy.code}])` : ''),
          r.restore
            ? `${r.restore.mode} sync: ${r.restore.cases} cases on this device, ${r.restore.purged} purged, ` +
              `${(r.restore.durationMs / 1000).toFixed(1)} s`
            : 'sync skipped: forms are still waiting to be sent',
        ];
        const failed = r.restore === null || r.send.quarantined > 0;
        return { json, text, status: failed ? EXIT.failed : EXIT.ok };
      }),
    );
  });
  program.addCommand(cmd);
}
