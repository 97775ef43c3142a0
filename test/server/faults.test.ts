import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideFault, FaultSyntaxError, parseFaults } from '../../src/server/faults.ts';
import { RateLimiter } from '../../src/server/rate-limits.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, caseForm, multipart } from './helpers.ts';

const ADMIN_KEY = 'ApiKey admin@example.com:fieldsim-demo-key';

describe('fault spec', () => {
  it('parses any subset of the documented syntax', () => {
    expect(parseFaults('500=0.2,drop-after-store=0.1,429=0.05,latency=50ms')).toEqual({
      error500: 0.2,
      dropAfterStore: 0.1,
      error429: 0.05,
      latencyMs: 50,
    });
    expect(parseFaults('latency=1s')).toEqual({
      error500: 0,
      dropAfterStore: 0,
      error429: 0,
      latencyMs: 1000,
    });
    expect(parseFaults('')).toEqual({ error500: 0, dropAfterStore: 0, error429: 0, latencyMs: 0 });
  });

  it('parses and draws the receiver-only 423 share', () => {
    const f = parseFaults('500=0.1,423=0.2');
    expect(f.locked423).toBe(0.2);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const d = decideFault(f, () => (i + 0.5) / 100);
      counts[d] = (counts[d] ?? 0) + 1;
    }
    expect(counts).toEqual({ '500': 10, '423': 20, none: 70 });
  });

  it('rejects unknown keys and out-of-range shares with a clear error', () => {
    expect(() => parseFaults('503=0.1')).toThrow(FaultSyntaxError);
    expect(() => parseFaults('500=2')).toThrow(/between 0 and 1/);
    expect(() => parseFaults('latency=fast')).toThrow(/latency/);
  });

  it('draws each fault with its share', () => {
    const f = parseFaults('500=0.2,429=0.1,drop-after-store=0.3');
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      const d = decideFault(f, () => (i + 0.5) / 1000);
      counts[d] = (counts[d] ?? 0) + 1;
    }
    expect(counts).toEqual({ '500': 200, '429': 100, 'drop-after-store': 300, none: 400 });
  });
});

describe('faults on a running emulator', () => {
  let emu: StartedEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu.close();
  });

  async function setFaults(spec: string) {
    const res = await fetch(`${emu.url}/a/demo/fieldsim/faults/`, {
      method: 'PUT',
      body: spec,
      headers: { authorization: ADMIN_KEY, 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(200);
  }

  const submit = (instanceId: string) =>
    fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: multipart(
        caseForm({
          instanceId,
          caseId: `case-${instanceId}`,
          body: '<create><case_type>t</case_type><case_name>n</case_name></create>',
        }),
      ),
      headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
    });

  it('answers injected 500s and 429s (empty, no Retry-After) without storing the form', async () => {
    await setFaults('500=1');
    expect((await submit('f500')).status).toBe(500);
    await setFaults('429=1');
    const r = await submit('f429');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(await r.text()).toBe('');
    expect(emu.app.hq.processor.cases.get('case-f500')).toBeUndefined();
    expect(emu.app.hq.processor.cases.get('case-f429')).toBeUndefined();
  });

  it('answers injected 423s as HQ answers a locked form id (text, XFormLockError), unprocessed; restores are not locked', async () => {
    await setFaults('423=1');
    const r = await submit('f423');
    expect(r.status).toBe(423);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(await r.text()).toBe('XFormLockError: f423');
    expect(emu.app.hq.processor.cases.get('case-f423')).toBeUndefined();
    expect(emu.app.db.prepare('SELECT 1 FROM forms WHERE form_id = ?').get('f423')).toBeUndefined();
    const restore = await fetch(`${emu.url}/a/demo/phone/restore/`, {
      headers: { authorization: basic('worker1') },
    });
    expect(restore.status).toBe(200);
    await restore.text();
    await setFaults('');
    expect((await submit('f423')).status).toBe(201);
  });

  it('drops the connection after storing the form; the resend is a duplicate', async () => {
    await setFaults('drop-after-store=1');
    await expect(submit('fdrop')).rejects.toThrow();
    expect(emu.app.hq.processor.cases.get('case-fdrop')?.name).toBe('n');
    await setFaults('');
    const again = await submit('fdrop');
    expect(again.status).toBe(201);
    const dups = emu.app.db
      .prepare("SELECT COUNT(*) AS n FROM forms WHERE state = 'duplicate' AND orig_id = 'fdrop'")
      .get() as {
      n: number;
    };
    expect(dups.n).toBe(1);
  });

  it('drops restores after storing the sync log', async () => {
    await setFaults('drop-after-store=1');
    const before = (emu.app.db.prepare('SELECT COUNT(*) AS n FROM sync_logs').get() as { n: number }).n;
    await expect(
      fetch(`${emu.url}/a/demo/phone/restore/`, { headers: { authorization: basic('worker1') } }).then((r) =>
        r.text(),
      ),
    ).rejects.toThrow();
    const after = (emu.app.db.prepare('SELECT COUNT(*) AS n FROM sync_logs').get() as { n: number }).n;
    expect(after).toBe(before + 1);
    await setFaults('');
  });

  it('adds latency', async () => {
    await setFaults('latency=150ms');
    const t0 = performance.now();
    expect((await submit('flat')).status).toBe(201);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    await setFaults('');
  });

  it('reads the current faults and rejects a bad spec with 400', async () => {
    await setFaults('429=0.25');
    const get = await fetch(`${emu.url}/a/demo/fieldsim/faults/`, { headers: { authorization: ADMIN_KEY } });
    expect(((await get.json()) as { config: { error429: number } }).config.error429).toBe(0.25);
    const bad = await fetch(`${emu.url}/a/demo/fieldsim/faults/`, {
      method: 'PUT',
      body: JSON.stringify({ faults: 'nonsense=1' }),
      headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    await setFaults('');
  });

  it('applies the HQ rate-limit preset when switched on: 429 with no Retry-After', async () => {
    const on = await fetch(`${emu.url}/a/demo/fieldsim/rate-limits/`, {
      method: 'PUT',
      body: JSON.stringify({ mode: 'hq' }),
      headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
    });
    expect(on.status).toBe(200);
    expect((await submit('rl1')).status).toBe(201);
    const limited = await submit('rl2');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    await fetch(`${emu.url}/a/demo/fieldsim/rate-limits/`, {
      method: 'PUT',
      body: JSON.stringify({ mode: 'off' }),
      headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
    });
    expect((await submit('rl3')).status).toBe(201);
  });
});

describe('HQ rate-limit preset', () => {
  it('allows 10 submissions a minute per project and 46 a day per worker', () => {
    let now = 0;
    const rl = new RateLimiter('hq', () => now);
    let allowed = 0;
    for (let i = 0; i < 60; i++) {
      if (rl.allow('submission', 'demo', 'u1')) allowed++;
      now += 1000;
    }
    expect(allowed).toBe(10);
    now += 3_600_000;
    let day = 0;
    for (let i = 0; i < 2000; i++) {
      if (rl.allow('submission', 'demo', 'u1')) day++;
      now += 6_100;
    }
    // 46 per worker per day, 10 of which were used in the first minute.
    expect(day).toBe(36);
    expect(rl.allow('restore', 'demo', 'u2')).toBe(true);
    expect(rl.allow('restore', 'demo', 'u2')).toBe(false);
  });
});
