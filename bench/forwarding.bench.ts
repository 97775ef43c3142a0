/**
 * Data forwarding benchmark (issue 14): does forwarding keep up with 500 forms/s?
 *
 * Three processes, so that none's event loop holds up another's: the emulator (as
 * `npm start`, default forwarding settings), `fieldsim sink --out` receiving what a
 * FormRepeater forwards (each form's XML), and this one submitting forms over loopback
 * HTTP and reading the sink's JSON lines for arrival times.
 *
 *  1. Paced load: forms submitted at `--rate` (500/s) for `--seconds` (6). Reported: forms/s
 *     received, forms/s forwarded, the ratio forwarded/received when the load ends and
 *     once drained (same run), the drain time after the load, and the latency from a
 *     form's 201 to its arrival at the sink (p50/p95/max).
 *  2. Capacity: `--backlog` (2000) forms submitted with the forwarder paused, then
 *     unpaused: how fast a backlog is forwarded (forms/s).
 *
 * Run: `npx tsx bench/forwarding.bench.ts [--rate 500] [--seconds 6] [--backlog 2000]
 * [--write] [--json FILE]`. Picked up by `bench/run.ts` like every *.bench.ts.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HqApiClient } from '../src/core/api/hq-api-client.ts';
import { completeLines } from './complete-lines.ts';
import { spawnEmulatorProcess } from './emulator-process.ts';
import { appendToResults, runHeading, writeJsonIfAsked } from './results-file.ts';
import { machine } from './server.bench.ts';

export interface ForwardingBenchResult {
  rate: number;
  seconds: number;
  received: number;
  receivedPerSec: number;
  forwardedPerSec: number;
  ratioAtLoadEnd: number;
  ratioDrained: number;
  duplicates: number;
  drainMs: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyMaxMs: number;
  backlog: number;
  backlogForwardedPerSec: number;
  keepsUp: boolean;
  machine: string;
}

const AUTH = `Basic ${Buffer.from('worker1@demo.commcarehq.org:fieldsim').toString('base64')}`;

function formXml(id: string, userId: string, i: number): string {
  const d = new Date().toISOString();
  return (
    `<?xml version="1.0"?><data xmlns="http://fieldsim.dev/bench/forwarding"><n>${i}</n>` +
    `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="fwd-${id}" date_modified="${d}" user_id="${userId}">` +
    `<create><case_type>member</case_type><case_name>Fwd ${i}</case_name><owner_id>${userId}</owner_id></create>` +
    `<update><age>${i % 80}</age></update></case>` +
    `<orx:meta xmlns:orx="http://openrosa.org/jr/xforms"><orx:deviceID>bench</orx:deviceID>` +
    `<orx:timeStart>${d}</orx:timeStart><orx:timeEnd>${d}</orx:timeEnd><orx:username>worker1</orx:username>` +
    `<orx:userID>${userId}</orx:userID><orx:instanceID>${id}</orx:instanceID></orx:meta></data>`
  );
}

/** `fieldsim sink` in its own process; arrivals are read back from its `--out` file. */
async function spawnSink(
  out: string,
): Promise<{ url: string; arrivals(): Map<string, number[]>; stop(): Promise<void> }> {
  const bin = resolve(import.meta.dirname, '../bin/fieldsim.js');
  const child = spawn(process.execPath, [bin, 'sink', '--port', '0', '--out', out, '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let text = '';
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m?.[1]) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`fieldsim sink exited with ${code}`)));
  });
  return {
    url,
    arrivals() {
      const byForm = new Map<string, number[]>();
      if (!existsSync(out)) return byForm;
      // The sink may be mid-write: only newline-terminated records are read.
      for (const line of completeLines(readFileSync(out, 'utf8'))) {
        const r = JSON.parse(line) as { formId: string | null; atMs: number };
        if (r.formId !== null) byForm.set(r.formId, [...(byForm.get(r.formId) ?? []), r.atMs]);
      }
      return byForm;
    },
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runForwardingBench(
  opts: { rate?: number; seconds?: number; backlog?: number; concurrency?: number } = {},
): Promise<ForwardingBenchResult> {
  const rate = opts.rate ?? 500;
  const seconds = opts.seconds ?? 6;
  const backlog = opts.backlog ?? 2000;
  const concurrency = opts.concurrency ?? 32;
  const dir = mkdtempSync(join(tmpdir(), 'fieldsim-fwd-bench-'));
  const server = await spawnEmulatorProcess(dir);
  const sink = await spawnSink(join(dir, 'sink.jsonl'));
  try {
    const sinkUrl = sink.url;
    const api = new HqApiClient({
      serverUrl: server.url,
      domain: 'demo',
      auth: { kind: 'api-key', username: 'admin@example.com', key: 'fieldsim-demo-key' },
    });
    const worker = (await api.users.all()).find((u) => u.username === 'worker1@demo.commcarehq.org');
    if (!worker) throw new Error('no worker1');
    const fwd = await api.dataForwarding.create({ type: 'FormRepeater', url: `${sinkUrl}bench` });
    const ackAt = new Map<string, number>();
    let n = 0;
    const submit = async (i: number) => {
      const id = `${process.pid}-${i}-${Math.random().toString(36).slice(2)}`;
      const res = await fetch(`${server.url}/a/demo/receiver/`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'X-OpenRosa-Version': '3.0', Authorization: AUTH },
        body: formXml(id, worker.id, i),
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`form ${i}: HTTP ${res.status}`);
      ackAt.set(id, Date.now());
    };

    // 1. Paced load: form i is due at t0 + i / rate.
    const total = Math.round(rate * seconds);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = n++;
          if (i >= total) return;
          const due = t0 + (i * 1000) / rate;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
          await submit(i);
        }
      }),
    );
    const loadEnd = Date.now();
    const received = ackAt.size;
    const allIn = () => {
      const a = sink.arrivals();
      return { a, missing: [...ackAt.keys()].filter((id) => !a.has(id)).length };
    };
    const forwardedAtEnd = received - allIn().missing;
    const drainDeadline = Date.now() + 120_000;
    let state = allIn();
    while (state.missing > 0 && Date.now() < drainDeadline) {
      await sleep(50);
      state = allIn();
    }
    const drained = Date.now();
    const arrivals = state.a;
    const forwarded = received - state.missing;
    const duplicates = [...ackAt.keys()].filter((id) => (arrivals.get(id)?.length ?? 0) > 1).length;
    const latencies = [...ackAt]
      .map(([id, at]) => (arrivals.get(id)?.[0] ?? Number.NaN) - at)
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    const times = [...ackAt.keys()].map((id) => arrivals.get(id)?.[0]).filter((x) => x !== undefined);
    const firstArrival = Math.min(...times);
    const lastArrival = Math.max(...times);

    // 2. Capacity: a paused forwarder's backlog, then unpaused.
    await api.dataForwarding.edit(fwd.id, { paused: true });
    ackAt.clear();
    let b = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const i = b++;
          if (i >= backlog) return;
          await submit(total + i);
        }
      }),
    );
    const u0 = Date.now();
    await api.dataForwarding.edit(fwd.id, { paused: false });
    const backlogDeadline = Date.now() + 120_000;
    while (Date.now() < backlogDeadline) {
      const a = sink.arrivals();
      if ([...ackAt.keys()].every((id) => a.has(id))) break;
      await sleep(50);
    }
    const backlogSecs = (Date.now() - u0) / 1000;

    const ratioAtLoadEnd = forwardedAtEnd / received;
    const ratioDrained = forwarded / received;
    const drainMs = drained - loadEnd;
    return {
      rate,
      seconds,
      received,
      receivedPerSec: Math.round(received / ((loadEnd - t0) / 1000)),
      forwardedPerSec: Math.round(
        forwarded / ((lastArrival - Math.min(firstArrival, lastArrival)) / 1000 || 1),
      ),
      ratioAtLoadEnd: Number(ratioAtLoadEnd.toFixed(3)),
      ratioDrained: Number(ratioDrained.toFixed(3)),
      duplicates,
      drainMs,
      latencyP50Ms: pct(latencies, 0.5),
      latencyP95Ms: pct(latencies, 0.95),
      latencyMaxMs: latencies.at(-1) ?? 0,
      backlog,
      backlogForwardedPerSec: Math.round(backlog / backlogSecs),
      // Keeping up with what was received: everything forwarded, once, and a short tail.
      keepsUp: ratioDrained === 1 && duplicates === 0 && drainMs < 1000,
      machine: machine(),
    };
  } finally {
    await sink.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatForwardingResult(r: ForwardingBenchResult): string {
  return [
    `- paced load ${r.rate} forms/s for ${r.seconds} s: ${r.received} forms received at ${r.receivedPerSec} forms/s, ` +
      `forwarded at ${r.forwardedPerSec} forms/s (FormRepeater, form XML, one POST per form, in order)`,
    `- forwarded/received: ${r.ratioAtLoadEnd} when the load ended, ${r.ratioDrained} after ${r.drainMs} ms; ${r.duplicates} duplicates`,
    `- latency 201 → sink: p50 ${r.latencyP50Ms} ms, p95 ${r.latencyP95Ms} ms, max ${r.latencyMaxMs} ms`,
    `- backlog of ${r.backlog} forms (forwarder paused, then resumed): forwarded at ${r.backlogForwardedPerSec} forms/s`,
    `- forwarding kept up with the forms received (${r.receivedPerSec} forms/s of the ${r.rate} asked): ${r.keepsUp ? 'yes' : 'NO'}` +
      (r.receivedPerSec < r.rate * 0.9
        ? ` (the receiver fell short of ${r.rate} forms/s on this machine; the backlog figure is forwarding's own ceiling)`
        : ''),
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      seconds: { type: 'string' },
      backlog: { type: 'string' },
      write: { type: 'boolean' },
    },
    strict: false,
  });
  const num = (v: string | boolean | undefined) => (typeof v === 'string' ? Number(v) : undefined);
  const rate = num(values.rate);
  const seconds = num(values.seconds);
  const backlog = num(values.backlog);
  const r = await runForwardingBench({
    ...(rate ? { rate } : {}),
    ...(seconds ? { seconds } : {}),
    ...(backlog ? { backlog } : {}),
  });
  const text = formatForwardingResult(r);
  console.log(`Data forwarding (${r.machine})\n${text}`);
  writeJsonIfAsked({ ...r });
  if (values.write) appendToResults('Data forwarding', `${runHeading(r.machine)}\n${text}`);
}
