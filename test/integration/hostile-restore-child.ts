/**
 * Child process of hostile-restore.test.ts: parses one generated restore stream (nothing
 * is written to disk) and prints one JSON line with the outcome and the peak RSS over the
 * RSS measured just before parsing. Run alone so the figure is this parse's only.
 */
import { isFieldsimError } from '../../src/core/errors/fieldsim-error.ts';
import { parseRestore } from '../../src/core/protocol/restore/restore-parser.ts';

const CHUNK = 64 * 1024;
const enc = new TextEncoder();
const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?><OpenRosaResponse xmlns="http://openrosa.org/http/response" items="1">' +
  '<message nature="ota_restore_success">Successfully restored account worker1!</message>' +
  '<Sync xmlns="http://commcarehq.org/sync"><restore_id>sync-1</restore_id></Sync>';
const TAIL = '</OpenRosaResponse>';

/** Byte chunks of about 64 KiB, as a network body arrives, from a generator of strings. */
async function* bytes(parts: Iterable<string>): AsyncGenerator<Uint8Array> {
  let buf = '';
  for (const p of parts) {
    buf += p;
    if (buf.length >= CHUNK) {
      yield enc.encode(buf);
      buf = '';
    }
  }
  if (buf !== '') yield enc.encode(buf);
}

function* repeat(n: number, piece: (i: number) => string): Generator<string> {
  for (let i = 0; i < n; i++) yield piece(i);
}

const CASE_OPEN = (id: string) =>
  `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${id}" date_modified="2026-01-01T00:00:00.000000Z" user_id="u1">`;

const scenarios: Record<string, () => Iterable<string>> = {
  /** One case with `n` tiny properties: 2M (42 MB) took 1.15 GB before the limits. */
  children: function* () {
    const n = Number(process.argv[3]);
    yield HEAD;
    yield `${CASE_OPEN('wide-case')}<update>`;
    yield* repeat(n, () => '<p/>');
    yield `</update></case>${TAIL}`;
  },
  /** One case with 60 properties of 3.9 MB each (234 MB), each under the token limit. */
  bigProperties: function* () {
    yield HEAD;
    yield `${CASE_OPEN('heavy-case')}<update>`;
    const piece = 'x'.repeat(65_000);
    for (let p = 0; p < 60; p++) {
      yield `<p${p}>`;
      yield* repeat(60, () => piece);
      yield `</p${p}>`;
    }
    yield `</update></case>${TAIL}`;
  },
  /** Just under every default limit: 240k elements, ~30M characters, in one fixture. */
  fixtureAtLimits: function* () {
    yield HEAD;
    yield '<fixture id="item-list:big" user_id="u1"><big_list>';
    const value = 'v'.repeat(110);
    for (let r = 0; r < 2_400; r++) {
      yield '<row>';
      yield* repeat(99, (i) => `<f${i}>${value}</f${i}>`);
      yield '</row>';
    }
    yield `</big_list></fixture>${TAIL}`;
  },
  /** The well-formed restore of the issue: `n` cases (283k make ~200 MB). */
  cases: function* () {
    const n = Number(process.argv[3]);
    yield HEAD.replace('items="1"', `items="${n + 1}"`);
    yield* repeat(
      n,
      (i) =>
        `${CASE_OPEN(`case-${i.toString().padStart(8, '0')}-2f1c0d7e-8b8a-4a55-9c7e`)}<create><case_type>household</case_type>` +
        `<case_name>Household ${i} of the synthetic load restore</case_name><owner_id>0f9e8d7c6b5a49382716aa0bb1cc2dd3</owner_id></create>` +
        `<update><village>Village ${i % 500}</village><head_of_household>Person ${i}</head_of_household><phone>+1555${i}</phone>` +
        `<visit_count>${i % 17}</visit_count><last_visit>2026-01-${(i % 28) + 1}</last_visit><notes>${'n'.repeat(32)}</notes>` +
        '<status>active</status><gps>12.3456 -45.6789 0 10</gps></update>' +
        `<index><parent case_type="village" relationship="child">village-${i % 500}</parent></index></case>`,
    );
    yield TAIL;
  },
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const make = scenarios[name];
  if (!make) throw new Error(`unknown scenario ${name}`);
  // Warm up the parser so its code is loaded before the baseline.
  for await (const _ of parseRestore(bytes([`${HEAD}${TAIL}`]))) void _;
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  let events = 0;
  let cases = 0;
  let bytesRead = 0;
  let error: { code: string; message: string; caseId?: string; path?: string } | null = null;
  try {
    for await (const batch of parseRestore(bytes(make()), { onBytes: (b) => (bytesRead = b) })) {
      events += batch.length;
      for (const e of batch) if (e.kind === 'case') cases++;
    }
  } catch (e) {
    if (!isFieldsimError(e)) throw e;
    const x = e as { caseId?: string; path?: string };
    error = { code: e.code, message: e.message };
    if (x.caseId !== undefined) error.caseId = x.caseId;
    if (x.path !== undefined) error.path = x.path;
  }
  clearInterval(timer);
  const ms = performance.now() - started;
  // maxRSS is the process's lifetime peak (KiB), sampled by the kernel: nothing is missed.
  const maxRss = process.resourceUsage().maxRSS * 1024;
  peak = Math.max(peak, maxRss);
  process.stdout.write(
    `${JSON.stringify({ error, events, cases, bytes: bytesRead, ms, baselineMb: baseline / 2 ** 20, overMb: (peak - baseline) / 2 ** 20 })}\n`,
  );
}

void main();
