import type { Ctx } from '../context.ts';

/**
 * Feeds the request body to `onChunk` as it arrives; `onChunk` throws to stop reading
 * (the promise then rejects with what it threw). Under Node it reads the IncomingMessage
 * itself: going through `c.req.raw.body` builds a full Request and a web stream per
 * submission. What is left unread when it stops early is drained (64 MB, 500 ms at most)
 * or dropped by @hono/node-server after the answer.
 */
export function pumpBody(c: Ctx, onChunk: (chunk: Buffer) => void): Promise<void> {
  const incoming = c.env?.incoming;
  if (incoming && !incoming.readableEnded && !incoming.destroyed) {
    return new Promise((resolve, reject) => {
      const done = () => {
        incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        try {
          onChunk(chunk);
        } catch (e) {
          done();
          incoming.pause();
          reject(e);
        }
      };
      const onEnd = () => {
        done();
        resolve();
      };
      const onError = (e: Error) => {
        done();
        reject(e);
      };
      // A client that goes away mid-body: nothing to answer, but the handler must not hang.
      const onClose = () => onError(new Error('The connection closed before the body ended'));
      incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    });
  }
  return (async () => {
    const body = c.req.raw.body;
    if (!body) return;
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      try {
        onChunk(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      } catch (e) {
        await reader.cancel().catch(() => undefined);
        throw e;
      }
    }
  })();
}

/** Thrown by a chunk callback when the whole body is over its limit. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly code = 'body-too-large';
}
