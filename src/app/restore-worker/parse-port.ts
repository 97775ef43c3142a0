import type { RestoreParserFn } from '../../core/platform.ts';
import type { RestoreBody, RestoreParseOptions } from '../../core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../../core/protocol/restore/restore-types.ts';
import {
  decodeWireBatch,
  fromWireError,
  type PipeWireError,
  RestorePipeError,
  toWireError,
  type WireBatch,
  wireBatches,
} from '../../core/store/restore-pipe-wire.ts';

/**
 * The channel between the restore's parse worker (restore-parse-worker.ts) and the
 * restore worker that writes (restore-worker.ts): a MessagePort the page made and handed
 * one end of to each. Batches go as flat strings (restore-pipe-wire.ts); the writer acks
 * each one it takes, and the parser stops while `PARSE_WINDOW` batches are unacknowledged,
 * so memory stays a few batches whatever the payload.
 */
export type FromParser =
  | { type: 'batch'; batch: WireBatch }
  | { type: 'done' }
  | { type: 'error'; error: PipeWireError };

export type ToParser = { type: 'ack' };

/** Batches the parser may be ahead of the writer (each ~1-2 MB of strings at 2000 cases). */
export const PARSE_WINDOW = 2;

/** The parse worker's side: parses `body` and sends its batches down `port`. */
export async function parseToPort(
  body: RestoreBody,
  port: MessagePort,
  opts: { batchSize?: number; window?: number } = {},
): Promise<void> {
  const window = Math.max(1, opts.window ?? PARSE_WINDOW);
  let acked = 0;
  let sent = 0;
  let wake: (() => void) | null = null;
  port.onmessage = (ev: MessageEvent<ToParser>) => {
    if (ev.data.type !== 'ack') return;
    acked++;
    const w = wake;
    wake = null;
    w?.();
  };
  const post = (m: FromParser): void => port.postMessage(m);
  try {
    for await (const batch of wireBatches(
      body,
      opts.batchSize === undefined ? {} : { batchSize: opts.batchSize },
    )) {
      post({ type: 'batch', batch });
      sent++;
      while (sent - acked >= window)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', error: toWireError(e) });
  }
}

/**
 * The writer's side: a `RestoreParserFn` (platform.ts) that ignores the body it is given
 * (the parse worker holds the real one) and yields the events `port` brings, typed errors
 * included. Only for full restores: applied cases are written into an empty generation.
 */
export function portParser(port: MessagePort): RestoreParserFn {
  return (_body, opts) => readPort(port, opts);
}

async function* readPort(port: MessagePort, opts: RestoreParseOptions): AsyncGenerator<RestoreEvent[]> {
  const inbox: FromParser[] = [];
  let wake: (() => void) | null = null;
  port.onmessage = (ev: MessageEvent<FromParser>) => {
    inbox.push(ev.data);
    const w = wake;
    wake = null;
    w?.();
  };
  try {
    while (true) {
      while (inbox.length === 0)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      const m = inbox.shift() as FromParser;
      if (m.type === 'done') return;
      if (m.type === 'error') throw fromWireError(m.error);
      if (m.type !== 'batch') throw new RestorePipeError('The restore parser sent an unknown message');
      opts.onBytes?.(m.batch.bytes);
      const events = decodeWireBatch(m.batch);
      port.postMessage({ type: 'ack' } satisfies ToParser);
      yield events;
    }
  } finally {
    port.onmessage = null;
    port.close();
  }
}
