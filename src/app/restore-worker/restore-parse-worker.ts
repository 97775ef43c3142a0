import { parseToPort } from './parse-port.ts';
import type { FromParseWorker, ToParseWorker } from './protocol.ts';

/**
 * The restore's parse worker (docs/pwa.md, "Restore over two workers"): tokenizes and
 * parses the restore body the page feeds it chunk by chunk, applies each case's first
 * block with the case rules and encodes it as stored, and sends the batches as flat
 * strings to the restore worker that packs and writes them (parse-port.ts). Holds no key
 * and opens no database: a failure here reaches the writer as a typed error, which fails
 * the restore before its switch.
 */

interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToParseWorker>) => void) | null;
  postMessage(msg: FromParseWorker): void;
}

const scope = globalThis as unknown as WorkerScope;

type Chunk = Extract<ToParseWorker, { type: 'chunks' | 'end' | 'fail' }>;
const inbox: Chunk[] = [];
let wake: (() => void) | null = null;

/** The body as the page sends it; each chunk taken is reported, so the page sends more. */
async function* body(): AsyncGenerator<Uint8Array> {
  while (true) {
    while (inbox.length === 0)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    const m = inbox.shift() as Chunk;
    if (m.type === 'end') return;
    // As the body's own error: the parser types it (NetworkError) as on any other thread.
    if (m.type === 'fail') throw Object.assign(new Error(m.message), { name: m.name });
    scope.postMessage({ type: 'taken' });
    yield* m.data;
  }
}

scope.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === 'parse') {
    void parseToPort(body(), m.port, m.batchSize === undefined ? {} : { batchSize: m.batchSize });
    return;
  }
  inbox.push(m);
  const w = wake;
  wake = null;
  w?.();
};
scope.postMessage({ type: 'ready' });
