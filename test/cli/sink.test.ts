import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sink, SinkOptionError } from '../../src/cli/sink/sink-server.ts';
import { FIELDSIM_BIN, runCli } from '../helpers/run-cli.ts';

/** `fieldsim sink` (issue 14): a loopback receiver for forwarded data. */

const started: Sink[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

async function sink(opts: ConstructorParameters<typeof Sink>[0] = {}): Promise<Sink> {
  const s = new Sink(opts);
  await s.start();
  started.push(s);
  return s;
}

const post = (url: string, body: string, type = 'application/xml') =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body });

describe('Sink', () => {
  it('records each POST with its ids: form XML, short-form JSON, case XML', async () => {
    const s = await sink();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const form =
      '<data xmlns="x"><n:meta xmlns:n="http://openrosa.org/jr/xforms"><n:instanceID>f-1</n:instanceID></n:meta></data>';
    expect((await post(`${s.url}in?app_id=a1`, form)).status).toBe(200);
    expect(
      (await post(s.url, JSON.stringify({ form_id: 'f-2', case_ids: [] }), 'application/json')).status,
    ).toBe(200);
    expect(
      (await post(s.url, '<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c-1"/>')).status,
    ).toBe(200);
    expect(s.records.map((r) => [r.n, r.formId, r.caseId, r.status])).toEqual([
      [1, 'f-1', null, 200],
      [2, 'f-2', null, 200],
      [3, null, 'c-1', 200],
    ]);
    expect(s.records[0]).toMatchObject({
      method: 'POST',
      path: '/in?app_id=a1',
      contentType: 'application/xml',
      body: form,
    });
    expect(s.accepted).toBe(3);
  });

  it('fails the first N requests with the given status, then accepts; a delay holds each answer', async () => {
    const s = await sink({ failFirst: 2, failStatus: 502, delayMs: 30 });
    const t0 = Date.now();
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post(s.url, JSON.stringify({ form_id: `f${i}` }), 'application/json')).status);
    expect(statuses).toEqual([502, 502, 200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(85);
    expect(s.records.map((r) => r.formId)).toEqual(['f2']);
  });

  it('appends accepted payloads to --out as JSON lines and calls back after --count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-sink-'));
    try {
      let counted = 0;
      const out = join(dir, 'sink.jsonl');
      const s = await sink({ out, count: 2, onCount: () => counted++ });
      await post(s.url, JSON.stringify({ form_id: 'a' }), 'application/json');
      expect(counted).toBe(0);
      await post(s.url, JSON.stringify({ form_id: 'b' }), 'application/json');
      await new Promise((r) => setTimeout(r, 20));
      expect(counted).toBe(1);
      const lines = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { formId: string; n: number });
      expect(lines.map((l) => [l.n, l.formId])).toEqual([
        [1, 'a'],
        [2, 'b'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options with a typed error', () => {
    expect(() => new Sink({ failStatus: 200 })).toThrow(SinkOptionError);
    expect(() => new Sink({ failFirst: -1 })).toThrow(/--fail-first/);
    expect(() => new Sink({ delayMs: 1.5 })).toThrow(/--delay/);
  });

  it('a restarted sink on the same port comes back (an outage)', async () => {
    const s = await sink();
    const port = s.port;
    await s.stop();
    await expect(post(s.url, '{}', 'application/json')).rejects.toThrow();
    const again = await sink({ port });
    expect((await post(again.url, '{}', 'application/json')).status).toBe(200);
  });
});

describe('fieldsim sink (CLI)', () => {
  it('listens, prints each payload, writes --out and exits 0 after --count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldsim-sink-cli-'));
    try {
      const out = join(dir, 'out.jsonl');
      const child = spawn(
        process.execPath,
        [FIELDSIM_BIN, 'sink', '--port', '0', '--count', '2', '--out', out],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m?.[1]) resolve(m[1]);
        });
        child.once('close', () => reject(new Error(`exited early: ${stdout}`)));
      });
      await post(url, JSON.stringify({ form_id: 'one' }), 'application/json');
      await post(url, JSON.stringify({ form_id: 'two' }), 'application/json');
      const status = await new Promise<number | null>((r) => child.once('close', r));
      expect(status).toBe(0);
      expect(stdout).toMatch(/one/);
      expect(stdout).toMatch(/2 payloads received/);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('exits 2 on a bad flag', async () => {
    const r = await runCli(['sink', '--fail-status', '200']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--fail-status must be an HTTP status/);
  }, 30_000);
});
