import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * Caps the main thread's young generation (V8's semi-spaces) while a CLI state file is
 * open. The CLI runs in-process from bin/fieldsim.js, so `--max-semi-space-size` cannot be
 * given on its command line, and V8 reads that flag only when an isolate is created. What
 * it reads at run time is `--semi-space-growth-factor`: the new space doubles after a
 * scavenge that kept much alive, up to 16 MB semi-spaces (32 MB of new space). So the new
 * space grows as V8 likes until it reaches `CAP_BYTES`, and is frozen there by a factor
 * of 1 (in the CLI's 50k-case restore, the restore's batches pushed it to 32 MB).
 *
 * The factor is process-wide, and creating an isolate (the parse thread) raises a factor
 * under 2 back to 2 (V8's Heap::ConfigureHeap; measured: the main thread's new space went
 * on to 32 MB), so `afterWorkerOnline` and every tick set it again. A worker isolate
 * created while it is 1 would never grow past its initial semi-space: `beforeWorkerSpawn`
 * sets the next isolate's initial semi-space to its maximum (V8 clamps it to the worker's
 * `resourceLimits`), so the parse thread keeps the young generation it was measured with
 * (its new space read 16 MB throughout the 50k-case restore).
 */

/**
 * 8 MB of new space (4 MB semi-spaces). Measured on the CLI's 50k-case restore (load ~4,
 * 3 runs each, same run): uncapped 204-213 MB peak RSS, capped at 8 MB 173-180 MB, at
 * 16 MB 177-183 MB; CPU the same within noise (user 3.7-3.8 s capped, 3.8-4.2 s not):
 * the restore's batches survive a scavenge or two and reach the old generation either way.
 */
const CAP_BYTES = 8 * 1024 * 1024;

/**
 * How often the new space's size is looked at until it reaches the cap, and the factor set
 * again after (V8 has no event for either; a tick costs a few microseconds). A synchronous
 * stretch that doubles the space twice between two looks leaves it at 16 MB; in the CLI
 * the space is already 8 MB when the state file opens, so it is frozen at once.
 */
const POLL_MS = 20;

let holders = 0;
let timer: ReturnType<typeof setInterval> | null = null;
let frozen = false;

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

function check(): void {
  // Once frozen, the factor is set again at every tick: a worker created by anyone (the
  // parse thread, or another module's) resets it, and V8 says nothing when it does.
  // The space's size is a little under its nominal size (page headers): 90% is "reached".
  if (!frozen && newSpaceBytes() < CAP_BYTES * 0.9) return;
  frozen = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}

export function capYoungGeneration(on: boolean): void {
  const before = holders;
  holders = Math.max(0, holders + (on ? 1 : -1));
  if (before === 0 && holders > 0) {
    check();
    timer = setInterval(check, POLL_MS);
    timer.unref();
  } else if (before > 0 && holders === 0) {
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (frozen) setFlagsFromString('--semi-space-growth-factor=2');
    frozen = false;
  }
}

/** Before `new Worker`; `afterWorkerOnline` once the worker runs (or exits first). */
export function beforeWorkerSpawn(): void {
  setFlagsFromString('--min-semi-space-size=64');
}

export function afterWorkerOnline(): void {
  setFlagsFromString('--min-semi-space-size=0');
  // Creating an isolate raises a growth factor under 2 back to 2 (V8's Heap::ConfigureHeap).
  if (frozen) setFlagsFromString('--semi-space-growth-factor=1');
}
