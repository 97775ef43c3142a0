import type { Command } from 'commander';
import { CliExit } from '../cli-exit.ts';
import { Sink, SinkOptionError } from '../sink/sink-server.ts';

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
    throw new SinkOptionError(`${flag} must be a whole number, not '${v}'`);
  return n;
}

/**
 * `fieldsim sink --port N`: a loopback receiver for the emulator's data forwarding
 * (issue 14). Prints one line per payload; `--out` keeps them as JSON lines. Exits 0
 * after `--count` payloads, or on Ctrl-C; 2 on a bad flag or a port in use.
 */
export function registerSink(program: Command): void {
  program
    .command('sink')
    .description('receive forwarded data (data forwarding) on loopback and record it')
    .option('--port <n>', 'port to listen on (0 = any free port)', '0')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--out <file>', 'append each payload as a JSON line')
    .option('--fail-first <n>', 'answer the first N requests with --fail-status')
    .option('--fail-status <status>', 'status of the failing answers', '503')
    .option('--delay <ms>', 'wait this long before each answer')
    .option('--count <n>', 'exit after N accepted payloads')
    .option('--quiet', 'print nothing per payload')
    .action(
      async (flags: {
        port: string;
        host: string;
        out?: string;
        failFirst?: string;
        failStatus: string;
        delay?: string;
        count?: string;
        quiet?: boolean;
      }) => {
        let sink: Sink;
        let done!: () => void;
        const finished = new Promise<void>((r) => {
          done = r;
        });
        try {
          const failFirst = int('--fail-first', flags.failFirst);
          const delayMs = int('--delay', flags.delay);
          const count = int('--count', flags.count);
          sink = new Sink({
            port: int('--port', flags.port) ?? 0,
            host: flags.host,
            failStatus: int('--fail-status', flags.failStatus) ?? 503,
            ...(failFirst === undefined ? {} : { failFirst }),
            ...(delayMs === undefined ? {} : { delayMs }),
            ...(count === undefined ? {} : { count, onCount: () => done() }),
            ...(flags.out ? { out: flags.out } : {}),
          });
        } catch (e) {
          if (e instanceof SinkOptionError) {
            console.error(`fieldsim sink: ${e.message}`);
            throw new CliExit(2);
          }
          throw e;
        }
        try {
          const url = await sink.start();
          console.log(`fieldsim sink listening on ${url}`);
        } catch (e) {
          console.error(`fieldsim sink: cannot listen: ${(e as Error).message}`);
          throw new CliExit(2);
        }
        const onSignal = () => done();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let printed = 0;
        const ticker = flags.quiet
          ? null
          : setInterval(() => {
              for (; printed < sink.records.length; printed++) {
                const r = sink.records[printed];
                if (r)
                  console.log(
                    `${r.at} #${r.n} ${r.contentType} ${r.formId ?? r.caseId ?? '-'} (${r.body.length} bytes)`,
                  );
              }
            }, 200);
        await finished;
        if (ticker) clearInterval(ticker);
        for (; printed < sink.records.length && !flags.quiet; printed++) {
          const r = sink.records[printed];
          if (r)
            console.log(
              `${r.at} #${r.n} ${r.contentType} ${r.formId ?? r.caseId ?? '-'} (${r.body.length} bytes)`,
            );
        }
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await sink.stop();
        console.log(`fieldsim sink: ${sink.accepted} payloads received`);
      },
    );
}
