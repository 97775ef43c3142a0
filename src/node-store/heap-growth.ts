import { setFlagsFromString } from 'node:v8';

/**
 * V8 lets the old generation grow to about three times what survived the last full GC
 * before collecting again (measured with --trace-gc during a 100k-case restore: 86 MB ->
 * 26 MB, 114 -> 36, 155 -> 48). A restore allocates fast and keeps a catalog that grows
 * with the case count, so the heap's peak was ~3x the live data: +250 MB over baseline
 * for 100k cases, +400 MB for 283k. While an SQLite file store is open (the CLI's; see
 * sqlite-store.ts), the heap may grow only `PERCENT` over the live data at each full GC
 * (the flag is read at every GC, so it takes effect at once); once the last one closes,
 * V8's own factor applies again. Measured on 100k cases: peak RSS over baseline ~+100 MB
 * instead of ~+175-260, for ~1-2 s more CPU in full GCs.
 */
const PERCENT = 20;

let holders = 0;

export function tightHeapGrowth(on: boolean): void {
  const before = holders;
  holders = Math.max(0, holders + (on ? 1 : -1));
  if (before === 0 && holders > 0) setFlagsFromString(`--heap-growing-percent=${PERCENT}`);
  else if (before > 0 && holders === 0) setFlagsFromString('--heap-growing-percent=0');
}
