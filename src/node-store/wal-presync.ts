import { close, fdatasync, open } from 'node:fs';

/**
 * Flushes a WAL file to disk in the background (libuv's thread pool) while a restore's
 * staged generation is being written. Staged commits do not sync (sqlite-tx-queue.ts),
 * so without this the switch's commit, which syncs the WAL (synchronous=FULL), waits on
 * the main thread for all ~100 MB a 100k-case restore appended to it. Each `kick` after
 * a staged group's commit starts one `fdatasync` unless one is running: by the switch,
 * only what was written since the last one is left to sync. An extra sync of the WAL
 * never changes what SQLite keeps or reads; only when the data reaches the disk.
 */
export class WalPresync {
  readonly #path: string;
  #fd: number | null = null;
  #opening = false;
  #busy = false;
  #closing = false;
  /** Syncs started, for tests and the benchmark's notes. */
  syncs = 0;

  constructor(dbFile: string) {
    this.#path = `${dbFile}-wal`;
  }

  kick(): void {
    if (this.#busy || this.#closing) return;
    if (this.#fd === null) {
      if (this.#opening) return;
      this.#opening = true;
      open(this.#path, 'r', (err, fd) => {
        this.#opening = false;
        // No WAL yet (or it is gone): nothing to flush; the switch's own sync stays.
        if (err !== null) return;
        if (this.#closing) {
          close(fd, () => undefined);
          return;
        }
        this.#fd = fd;
        this.kick();
      });
      return;
    }
    this.#busy = true;
    this.syncs++;
    fdatasync(this.#fd, () => {
      // A failed flush costs nothing here: SQLite's own sync at the switch decides.
      this.#busy = false;
      if (this.#closing) this.#release();
    });
  }

  /** For the store's close: stops kicking; the descriptor is closed once no flush uses it. */
  stop(): void {
    this.#closing = true;
    if (!this.#busy) this.#release();
  }

  #release(): void {
    const fd = this.#fd;
    this.#fd = null;
    if (fd !== null) close(fd, () => undefined);
  }
}
