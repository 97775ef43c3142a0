import { parentPort, workerData } from 'node:worker_threads';
import { isFieldsimError } from '../core/errors/fieldsim-error.ts';
import type { CaseBlock } from '../core/protocol/casexml/case-types.ts';
import { parseRestore } from '../core/protocol/restore/restore-parser.ts';
import type { RestoreEvent } from '../core/protocol/restore/restore-types.ts';
import type { FromThread, ParseThreadInput, ToThread, WireError } from './restore-parse-messages.ts';

/**
 * The restore parse thread: runs the core's `parseRestore` on chunks the main thread
 * sends, and posts its batches back (restore-parse-thread.ts). It reports each chunk it
 * takes (the main thread keeps a few queued ahead) and stops parsing while `window`
 * batches are unacknowledged, so its memory stays a few batches whatever the payload.
 */

const port = parentPort;
if (port === null) throw new Error('restore-parse-worker runs as a worker thread');
const input = workerData as ParseThreadInput;
const post = (m: FromThread): void => port.postMessage(m);

let wake: (() => void) | null = null;
const inbox: ToThread[] = [];
let acked = 0;
port.on('message', (m: ToThread) => {
  if (m.type === 'ack') acked++;
  else inbox.push(m);
  const w = wake;
  wake = null;
  w?.();
});

function waitMessage(): Promise<void> {
  return new Promise((resolve) => {
    wake = resolve;
  });
}

async function* chunks(): AsyncGenerator<Uint8Array | string> {
  while (true) {
    while (inbox.length === 0) await waitMessage();
    const m = inbox.shift() as ToThread;
    if (m.type === 'end') return;
    if (m.type === 'chunk') {
      post({ type: 'taken' });
      yield m.data;
    }
  }
}

function wireError(e: unknown): WireError {
  if (isFieldsimError(e)) {
    const x = e as unknown as Record<string, unknown>;
    const out: WireError = { name: e.name, code: e.code, message: e.message };
    for (const k of ['line', 'column', 'path', 'caseId'] as const)
      if (x[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = x[k];
    return out;
  }
  return { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) };
}

async function run(): Promise<void> {
  let sent = 0;
  try {
    for await (const batch of parseRestore(chunks(), {
      ...(input.batchSize !== undefined ? { batchSize: input.batchSize } : {}),
      ...(input.maxTokenChars !== undefined ? { maxTokenChars: input.maxTokenChars } : {}),
      ...(input.maxDepth !== undefined ? { maxDepth: input.maxDepth } : {}),
      ...(input.limits !== undefined ? { limits: input.limits } : {}),
    })) {
      const cases: CaseBlock[] = [];
      const other: [number, RestoreEvent][] = [];
      batch.forEach((ev, i) => {
        if (ev.kind === 'case') cases.push(ev.block);
        else other.push([i, ev]);
      });
      post({ type: 'batch', cases: JSON.stringify(cases), other, count: batch.length });
      sent++;
      while (sent - acked >= input.window) await waitMessage();
    }
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', error: wireError(e) });
  }
}

void run();
