/**
 * A/B of the restore parser's XML tokenizer (issue 15), alternated in one process, CPU
 * time per round, on the same generated restore:
 * - tokenizer only: XmlScanner (src/core/protocol/xml-scanner.ts) pulling every token,
 *   against saxes with the four handlers the restore parser registered (doing nothing),
 *   on the payload already decoded to strings;
 * - parse only: `parseRestore` on XmlScanner against the previous saxes-based parser (kept
 *   as the differential tests' reference, test/helpers/saxes-restore-parser.ts), bytes in.
 *
 * Run: `npx tsx bench/xml-scanner.bench.ts [--cases 100000] [--rounds 5]`.
 */
import { loadavg } from 'node:os';
import { SaxesParser } from 'saxes';
import { parseRestore, type RestoreBody } from '../src/core/protocol/restore/restore-parser.ts';
import { TOKEN_NONE, XmlScanner } from '../src/core/protocol/xml-scanner.ts';
import { parseRestore as parseRestoreSaxes } from '../test/helpers/saxes-restore-parser.ts';
import { synthRestoreChunks } from './restore-synth.ts';

type Parse = (body: RestoreBody) => AsyncGenerator<unknown[], void, undefined>;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

async function* chunks(list: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* list;
}

async function round(parse: Parse, list: Uint8Array[]): Promise<{ cpuMs: number; events: number }> {
  const c0 = process.cpuUsage();
  let events = 0;
  for await (const b of parse(chunks(list))) events += b.length;
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, events };
}

function tokensScanner(strs: string[]): number {
  const sc = new XmlScanner();
  let n = 0;
  for (const s of strs) {
    sc.push(s);
    while (sc.next() !== TOKEN_NONE) n++;
  }
  sc.finish();
  while (sc.next() !== TOKEN_NONE) n++;
  sc.end();
  return n;
}

function tokensSaxes(strs: string[]): number {
  const p = new SaxesParser({ xmlns: false, position: true });
  let n = 0;
  p.on('opentag', () => n++);
  p.on('text', () => n++);
  p.on('cdata', () => n++);
  p.on('closetag', () => n++);
  for (const s of strs) p.write(s);
  p.close();
  return n;
}

function cpuOf(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  const cases = arg('--cases', 100_000);
  const rounds = arg('--rounds', 5);
  const { chunks: list, bytes } = synthRestoreChunks(cases);
  const load0 = loadavg()[0] as number;
  // Warm both up so neither pays for compilation in its first timed round.
  const warm = synthRestoreChunks(5000).chunks;
  await round(parseRestore, warm);
  await round(parseRestoreSaxes, warm);
  const decoder = new TextDecoder();
  const strs = list.map((c) => decoder.decode(c, { stream: true }));
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ta.push(cpuOf(() => tokensScanner(strs)));
    tb.push(cpuOf(() => tokensSaxes(strs)));
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const x = await round(parseRestore, list);
    const y = await round(parseRestoreSaxes, list);
    if (x.events !== y.events) throw new Error(`event counts differ: ${x.events} vs ${y.events}`);
    a.push(x.cpuMs);
    b.push(y.cpuMs);
  }
  const load1 = loadavg()[0] as number;
  const out = {
    cases,
    payloadMb: +(bytes / 1e6).toFixed(1),
    rounds,
    tokenizerOnly: {
      scannerCpuMs: ta.map(Math.round),
      saxesCpuMs: tb.map(Math.round),
      scannerMedianMs: Math.round(median(ta)),
      saxesMedianMs: Math.round(median(tb)),
      speedup: +(median(tb) / median(ta)).toFixed(2),
    },
    parseOnly: {
      scannerCpuMs: a.map(Math.round),
      saxesCpuMs: b.map(Math.round),
      scannerMedianMs: Math.round(median(a)),
      saxesMedianMs: Math.round(median(b)),
      speedup: +(median(b) / median(a)).toFixed(2),
      scannerCasesPerSec: Math.round(cases / (median(a) / 1000)),
    },
    loadavg: [+load0.toFixed(2), +load1.toFixed(2)],
  };
  console.log(JSON.stringify(out));
}

await main();
