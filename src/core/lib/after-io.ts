/**
 * Resolves in a later macrotask, after the I/O the current one queued has gone out. The
 * outbox starts a form's commit this way once the next form's request is handed to
 * fetch: Node writes that request in a `nextTick` after the microtask queue drains, and
 * a database transaction started at once (Dexie's scope, the store's clone of the rows)
 * ran its microtasks first, ahead of the write (about half the client's time between
 * an answer and the next send, measured in the drain).
 *
 * One MessageChannel for every waiter: a message is a macrotask in browsers and in Node
 * (~6 µs, where `setTimeout(0)` is at least 1 ms in Node and clamped in browsers). In
 * Node the port holds the process open only while someone waits, so a pending commit is
 * never dropped by an exit and an idle outbox never keeps a process alive.
 */
interface NodePort {
  ref?(): void;
  unref?(): void;
}

let channel: MessageChannel | undefined;
let waiting: (() => void)[] = [];

function wake(): void {
  const ready = waiting;
  waiting = [];
  (channel?.port1 as NodePort | undefined)?.unref?.();
  for (const resolve of ready) resolve();
}

export function afterIo(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof MessageChannel !== 'function') {
      setTimeout(resolve, 0);
      return;
    }
    if (channel === undefined) {
      channel = new MessageChannel();
      channel.port1.onmessage = wake;
    }
    waiting.push(resolve);
    if (waiting.length === 1) {
      (channel.port1 as NodePort).ref?.();
      channel.port2.postMessage(0);
    }
  });
}
