import { formatDuration } from './duration.ts';
import type { RunProgress } from './engine.ts';

/**
 * The live progress line on stderr: redrawn in place on a terminal, one plain line every
 * `plainEveryMs` otherwise (CI logs, pipes), so logs stay readable.
 */
export function progressPrinter(
  stream: NodeJS.WriteStream,
  opts: { plainEveryMs?: number } = {},
): (p: RunProgress) => void {
  const tty = stream.isTTY === true;
  const every = opts.plainEveryMs ?? 5000;
  let lastPlain = 0;
  return (p) => {
    const line =
      `${formatDuration(p.elapsedMs)}  workers ${p.active} active, ${p.finished}/${p.planned} done  ` +
      `steps ${p.stepsDone}  errors ${p.errors}${p.unexpectedErrors > 0 ? ` (${p.unexpectedErrors} unexpected)` : ''}` +
      (p.formsPerSec === undefined ? '' : `  ${p.formsPerSec} forms/s, ${p.requestsPerSec ?? 0} req/s`);
    if (tty) {
      stream.write(`\r\x1b[K${line}${p.done ? '\n' : ''}`);
      return;
    }
    if (p.done || p.elapsedMs - lastPlain >= every) {
      lastPlain = p.elapsedMs;
      stream.write(`${line}\n`);
    }
  };
}
