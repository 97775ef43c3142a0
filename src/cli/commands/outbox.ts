import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { isEncryptedExport, openExport, sealExport } from '../../core/crypto/export-envelope.ts';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { ImportResult, OutboxExport } from '../../core/outbox/outbox.ts';
import type { OutboxItem, OutboxState, SendReport } from '../../core/sync/session-types.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';
import {
  addWorkerOptions,
  EXIT,
  flagsOf,
  formatBytes,
  runCommand,
  UsageError,
  type WorkerFlags,
} from '../worker-options.ts';
import { type Worker, withWorker } from '../worker-session.ts';

/**
 * `fieldsim outbox`: the worker's queue of forms (issue 4's outbox, from the command line).
 *
 *   outbox                         list: order, state, times, size, attempts, last error, reason
 *   outbox send                    send waiting forms now, in order (exit 1 if any still wait
 *                                  or the server set one aside)
 *   outbox show <instanceID>       the exact XML sent (or to be sent)
 *   outbox requeue <instanceID>    put a set-aside form back in line
 *   outbox quarantine <instanceID> [--reason text]   set a waiting form aside
 *   outbox export <file>           unsent forms (with attachments) to a portable JSON file
 *   outbox import <file>           forms from such a file, applying their case changes
 */

export type CountsJson = Record<OutboxState, number>;

export interface OutboxListJson {
  counts: CountsJson;
  forms: OutboxItem[];
}

export interface OutboxSendJson {
  send: SendReport;
  counts: CountsJson;
}

const STATES: readonly OutboxState[] = ['incomplete', 'queued', 'sending', 'sent', 'quarantined'];

function statesOption(v: string): OutboxState[] {
  const out = v.split(',').map((s) => s.trim());
  for (const s of out)
    if (!(STATES as readonly string[]).includes(s))
      throw new InvalidArgumentError(`states are ${STATES.join(', ')}`);
  return out as OutboxState[];
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function countsLine(c: CountsJson): string {
  return `${c.queued + c.sending} waiting, ${c.sent} sent, ${c.quarantined} set aside, ${c.incomplete} incomplete`;
}

async function findItem(w: Worker, id: string): Promise<OutboxItem> {
  const item = (await w.session.listOutbox()).find((f) => f.instanceId === id);
  if (item === undefined) throw new UsageError(`No form ${id} in the outbox`);
  return item;
}

/** Registers one `outbox <name>` subcommand with the worker flags and the same error handling. */
function sub(
  parent: Command,
  name: string,
  description: string,
  setup: (c: Command) => Command,
  run: (
    flags: WorkerFlags & Record<string, unknown>,
    args: string[],
  ) => Promise<{ json: unknown; text: string[]; status?: number }>,
): void {
  const c = setup(new Command(name).description(description));
  addWorkerOptions(c);
  c.action(async (...all: unknown[]) => {
    const self = all[all.length - 1] as Command;
    const args = all.slice(0, self.registeredArguments.length) as string[];
    const flags = flagsOf<WorkerFlags & Record<string, unknown>>(self);
    await runCommand(`outbox ${name}`, flags, () => run(flags, args));
  });
  parent.addCommand(c);
}

export function registerOutbox(program: Command): void {
  const cmd = new Command('outbox')
    .description("the worker's outbox: list, send, show, requeue, quarantine, export, import")
    .option(
      '--status <states>',
      `only forms in these states, comma-separated (${STATES.join(', ')})`,
      statesOption,
    );
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<WorkerFlags & { status?: OutboxState[] }>();
    await runCommand('outbox', flags, () =>
      withWorker(
        'outbox',
        flags,
        'none',
        async (w) => {
          const forms = await w.session.listOutbox(flags.status);
          const counts = await w.session.outboxCounts();
          const json: OutboxListJson = { counts, forms };
          const text = forms.map((f) => {
            const extra =
              f.state === 'quarantined'
                ? ` reason ${f.quarantineReason ?? '-'}: ${f.serverMessage ?? f.lastError ?? ''}`
                : f.lastError
                  ? ` last error: ${f.lastError}`
                  : '';
            return (
              `#${f.seq} ${f.instanceId} ${f.state.padEnd(11)} ${iso(f.createdAt)} ` +
              `sent ${iso(f.sentAt)} ${formatBytes(f.size)} tries ${f.attempts} ${f.formName}${extra}`
            );
          });
          text.push(countsLine(counts));
          return { json, text };
        },
        { readOnly: true },
      ),
    );
  });

  sub(
    cmd,
    'send',
    'send the waiting forms now, in order',
    (c) => c,
    (flags) =>
      withWorker('outbox send', flags, 'required', async (w) => {
        w.connect();
        const send = await w.session.sendOutbox();
        const counts = await w.session.outboxCounts();
        const json: OutboxSendJson = { send, counts };
        const text = [
          `sent ${send.sent}, set aside ${send.quarantined}, waiting ${send.remaining}` +
            (send.stoppedBy ? ` (stopped: ${send.stoppedBy.message} [${send.stoppedBy.code}])` : ''),
          countsLine(counts),
        ];
        const failed = send.remaining > 0 || send.quarantined > 0;
        return { json, text, status: failed ? EXIT.failed : EXIT.ok };
      }),
  );

  sub(
    cmd,
    'show',
    'print the XML of one form',
    (c) => c.argument('<instanceID>', 'the form'),
    (flags, [id]) =>
      withWorker(
        'outbox show',
        flags,
        'none',
        async (w) => {
          const item = await findItem(w, id as string);
          const xml = await w.session.outboxXml(item.instanceId);
          if (xml === undefined)
            throw new UsageError(
              `Form ${item.instanceId} has no XML (an incomplete draft, or pruned after sending)`,
            );
          return { json: { item, xml }, text: [xml] };
        },
        { readOnly: true },
      ),
  );

  sub(
    cmd,
    'requeue',
    'put a set-aside (quarantined) form back in line; it is sent by the next `outbox send` or `sync`',
    (c) => c.argument('<instanceID>', 'the form'),
    (flags, [id]) =>
      withWorker('outbox requeue', flags, 'none', async (w) => {
        await w.session.requeue(id as string);
        const item = await findItem(w, id as string);
        return {
          json: { instanceId: item.instanceId, state: item.state },
          text: [`${item.instanceId} ${item.state}`],
        };
      }),
  );

  sub(
    cmd,
    'quarantine',
    'set a waiting form aside so it is not sent',
    (c) => c.argument('<instanceID>', 'the form').option('--reason <text>', 'why (kept with the form)'),
    (flags, [id]) =>
      withWorker('outbox quarantine', flags, 'none', async (w) => {
        const reason = typeof flags.reason === 'string' ? flags.reason : undefined;
        await w.session.quarantine(id as string, reason);
        const item = await findItem(w, id as string);
        return {
          json: { instanceId: item.instanceId, state: item.state, reason: item.serverMessage ?? null },
          text: [`${item.instanceId} ${item.state}${item.serverMessage ? `: ${item.serverMessage}` : ''}`],
        };
      }),
  );

  sub(
    cmd,
    'export',
    'write the unsent forms (waiting, set aside, incomplete; with attachments) to a JSON file',
    (c) =>
      c
        .argument('<file>', 'output file (written atomically, mode 0600)')
        .option(
          '--plain',
          'write the forms unencrypted (by default the file is encrypted with the password: --password or FIELDSIM_PASSWORD)',
        ),
    (flags, [file]) =>
      withWorker(
        'outbox export',
        flags,
        'none',
        async (w) => {
          const plain = flags.plain === true;
          // Encrypted with the secret this command was given (docs/cli.md, encryption at rest).
          const secret = w.credentials?.secret;
          if (!plain && secret === undefined)
            throw new UsageError(
              'outbox export encrypts the file with the password: give --password (or FIELDSIM_PASSWORD), or --plain for an unencrypted file',
            );
          const data = await w.session.exportOutbox();
          const path = resolve(file as string);
          const body = plain || secret === undefined ? data : await sealExport(JSON.stringify(data), secret);
          writeFileAtomic(path, `${JSON.stringify(body)}\n`);
          return {
            json: { file: path, forms: data.forms.length, encrypted: !plain },
            text: [
              `${data.forms.length} form(s) written to ${path}${plain ? ' (plain, not encrypted)' : ' (encrypted)'}`,
            ],
          };
        },
        { readOnly: true },
      ),
  );

  sub(
    cmd,
    'import',
    'add forms from an `outbox export` file (known instanceIDs are skipped), applying their case changes',
    (c) => c.argument('<file>', 'a file written by `outbox export` (or the PWA)'),
    (flags, [file]) =>
      withWorker('outbox import', flags, 'none', async (w) => {
        let data: OutboxExport;
        try {
          data = JSON.parse(readFileSync(resolve(file as string), 'utf8')) as OutboxExport;
        } catch (e) {
          throw new FieldsimError(
            'invalid-argument',
            `Cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
        if (isEncryptedExport(data)) {
          const secret = w.credentials?.secret;
          if (secret === undefined)
            throw new UsageError(`${file} is encrypted: give the password (--password or FIELDSIM_PASSWORD)`);
          data = JSON.parse(await openExport(data, secret)) as OutboxExport;
        }
        if (data === null || typeof data !== 'object' || !Array.isArray((data as { forms?: unknown }).forms))
          throw new FieldsimError('invalid-argument', `${file} is not a fieldsim outbox export`);
        const r: ImportResult = await w.session.importOutbox(data, { applyCases: true });
        const text = [
          `imported ${r.imported}, skipped ${r.skipped} already known, failed ${r.failed.length}`,
        ];
        for (const f of r.failed) text.push(`  ${f.instanceId}: ${f.message}`);
        return { json: r, text, status: r.failed.length > 0 ? EXIT.failed : EXIT.ok };
      }),
  );

  program.addCommand(cmd);
}
