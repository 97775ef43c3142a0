import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sink } from '../../src/cli/sink/sink-server.ts';
import { type ApiAuth, HqApiClient, HttpError } from '../../src/core/index.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * Data forwarding (issue 14 part 1) against the emulator over loopback: the
 * data-forwarding API and its permissions, and real forwarding to a sink that goes
 * offline and comes back, fails, or never answers.
 */

let hq: StartedEmulator;
const admin: ApiAuth = { kind: 'api-key', username: 'admin@example.com', key: 'fieldsim-demo-key' };
const WORKER = { username: 'worker1@demo.commcarehq.org', password: 'fieldsim' };
let workerId = '';
const sinks: Sink[] = [];

function api(auth: ApiAuth = admin, domain = 'demo') {
  return new HqApiClient({ serverUrl: hq.url, domain, auth, retry: { maxAttempts: 1 } });
}

async function caught(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error('expected an HttpError');
}

function formXml(opts: { id?: string; caseId?: string; caseType?: string; xmlns?: string } = {}): {
  id: string;
  xml: string;
} {
  const id = opts.id ?? randomUUID();
  const now = new Date().toISOString();
  const kase = opts.caseId
    ? `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${opts.caseId}" date_modified="${now}" user_id="${workerId}">` +
      `<create><case_type>${opts.caseType ?? 'household'}</case_type><case_name>Fwd</case_name><owner_id>${workerId}</owner_id></create>` +
      `<update><village>Riverside</village></update></case>`
    : '';
  const xml =
    `<?xml version="1.0"?><data xmlns="${opts.xmlns ?? 'http://fieldsim.dev/test/forwarding'}"><q>1</q>${kase}` +
    `<orx:meta xmlns:orx="http://openrosa.org/jr/xforms"><orx:deviceID>fwd-test</orx:deviceID>` +
    `<orx:timeStart>${now}</orx:timeStart><orx:timeEnd>${now}</orx:timeEnd>` +
    `<orx:username>worker1</orx:username><orx:userID>${workerId}</orx:userID>` +
    `<orx:instanceID>${id}</orx:instanceID></orx:meta></data>`;
  return { id, xml };
}

async function submit(xml: string): Promise<number> {
  const res = await fetch(`${hq.url}/a/demo/receiver/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml',
      'X-OpenRosa-Version': '3.0',
      Authorization: `Basic ${Buffer.from(`${WORKER.username}:${WORKER.password}`).toString('base64')}`,
    },
    body: xml,
  });
  await res.text();
  return res.status;
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function newSink(opts: ConstructorParameters<typeof Sink>[0] = {}): Promise<Sink> {
  const s = new Sink(opts);
  await s.start();
  sinks.push(s);
  return s;
}

beforeAll(async () => {
  hq = await startEmulator({
    forwarding: { pollMs: 10, backoffMs: 40, maxBackoffMs: 200, maxServerAttempts: 200, timeoutMs: 2000 },
  });
  const w = (await api().users.all()).find((u) => u.username === WORKER.username);
  if (!w) throw new Error('no worker1');
  workerId = w.id;
  // A web admin of another project, for the cross-domain check.
  hq.app.db
    .prepare(
      `INSERT INTO users (id, domain, username, kind, password_hash, date_joined, api_key, is_admin)
       VALUES (?, 'other', 'boss@other.org', 'web', 'x', '2026-01-01', 'other-key', 1)`,
    )
    .run(randomUUID().replaceAll('-', ''));
});
afterAll(async () => {
  for (const s of sinks) await s.stop();
  await hq.close();
});

describe('data-forwarding API', () => {
  it('creates, reads, lists, edits and deletes forwarders in HQ JSON shape', async () => {
    const a = api();
    const f = await a.dataForwarding.create({
      type: 'FormRepeater',
      url: 'http://127.0.0.1:9/in',
      white_listed_form_xmlns: ['http://x/1'],
      auth_type: 'basic',
      username: 'u',
      password: 'secret',
      paused: true,
    });
    expect(f).toMatchObject({
      type: 'FormRepeater',
      domain: 'demo',
      url: 'http://127.0.0.1:9/in',
      version: '2.0',
      format: 'form_xml',
      white_listed_form_xmlns: ['http://x/1'],
      resource_uri: `/a/demo/api/v0.5/data-forwarding/${f.id}/`,
      password: '********',
    });
    expect((await a.dataForwarding.get(f.id)).id).toBe(f.id);
    expect((await a.dataForwarding.all()).map((x) => x.id)).toContain(f.id);
    const edited = await a.dataForwarding.edit(f.id, { type: 'CaseRepeater', format: 'case_json' });
    expect(edited).toMatchObject({ type: 'CaseRepeater', format: 'case_json', url: 'http://127.0.0.1:9/in' });
    await a.dataForwarding.delete(f.id);
    expect((await caught(a.dataForwarding.get(f.id))).status).toBe(404);
    expect((await caught(a.dataForwarding.delete(f.id))).status).toBe(404);
  });

  it('answers 403 to mobile workers and to admins of another domain, 401 without credentials', async () => {
    const worker = api({ kind: 'basic', username: WORKER.username, password: WORKER.password });
    expect((await caught(worker.dataForwarding.list())).status).toBe(403);
    expect(
      (await caught(worker.dataForwarding.create({ type: 'FormRepeater', url: 'http://127.0.0.1:9/' })))
        .status,
    ).toBe(403);
    const other = api({ kind: 'api-key', username: 'boss@other.org', key: 'other-key' });
    expect((await caught(other.dataForwarding.list())).status).toBe(403);
    // The same admin in their own domain is allowed.
    expect(
      (
        await api(
          { kind: 'api-key', username: 'boss@other.org', key: 'other-key' },
          'other',
        ).dataForwarding.list()
      ).objects,
    ).toEqual([]);
    const anon = await fetch(`${hq.url}/a/demo/api/v0.5/data-forwarding/`);
    expect(anon.status).toBe(401);
  });

  it('rejects a URL that is not http(s), an unknown type and a missing url with 400 and a reason', async () => {
    const a = api();
    for (const [input, reason] of [
      [{ type: 'FormRepeater', url: 'ftp://example.org/in' }, /http or https/],
      [{ type: 'FormRepeater', url: 'not a url' }, /not a valid URL/],
      [{ type: 'FormRepeater', url: 'file:///etc/passwd' }, /http or https/],
      [{ type: 'SmsRepeater', url: 'http://127.0.0.1:9/' }, /type must be one of/],
      [{ type: 'FormRepeater' }, /url is required/],
      [{ type: 'CaseRepeater', url: 'http://127.0.0.1:9/', format: 'form_xml' }, /format/],
    ] as const) {
      const e = await caught(a.raw('post', 'data-forwarding/', { body: input }));
      expect(e.status).toBe(400);
      expect(JSON.stringify(e.serverMessage ?? e.message)).toMatch(reason);
    }
    expect(await a.dataForwarding.all()).toEqual([]);
  });
});

describe('forwarding', () => {
  it('an offline sink that comes back gets every form once, in order; failed attempts are logged', async () => {
    const a = api();
    const sink = await newSink();
    const port = sink.port;
    await sink.stop(); // offline from the start
    const f = await a.dataForwarding.create({ type: 'FormRepeater', url: `http://127.0.0.1:${port}/forms` });
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) {
      const form = formXml();
      ids.push(form.id);
      const t0 = Date.now();
      expect(await submit(form.xml)).toBe(201);
      // The receiver never waits on the sink.
      expect(Date.now() - t0).toBeLessThan(1000);
    }
    const failed = await until('a failed record', async () => {
      const r = await a.dataForwarding.records(f.id, { state: 'failed' });
      return r.objects[0];
    });
    expect(failed.failure_reason).toMatch(/ECONNREFUSED/);
    expect(failed.attempts).toBeGreaterThanOrEqual(1);
    expect(failed.payload_id).toBe(ids[0]);
    // Back online on the same port, failing twice more with 503 before it recovers.
    const back = await newSink({ port, failFirst: 2, failStatus: 503 });
    await until('all forms forwarded', () => back.accepted >= ids.length || undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(back.records.map((r) => r.formId)).toEqual(ids);
    expect(back.records[0]?.body).toContain('<data xmlns="http://fieldsim.dev/test/forwarding">');
    // The log is written just after delivery (in the background): wait for it.
    const records = await until('the log', async () => {
      const all = await a.dataForwarding.allRecords(f.id);
      return all.every((r) => r.state === 'success') ? all : undefined;
    });
    expect(records.map((r) => r.state)).toEqual(ids.map(() => 'success'));
    expect(records[0]?.attempts).toBeGreaterThan(2);
    expect(records[0]?.last_response).toEqual({ status: 200, body: 'ok' });
    expect((await a.dataForwarding.get(f.id)).record_counts).toEqual({
      pending: 0,
      success: 15,
      failed: 0,
      cancelled: 0,
    });
    await a.dataForwarding.delete(f.id);
  });

  it('never forwards a duplicate submission, nor an error form', async () => {
    const a = api();
    const sink = await newSink();
    const f = await a.dataForwarding.create({ type: 'FormRepeater', url: sink.url });
    const form = formXml();
    expect(await submit(form.xml)).toBe(201);
    expect(await submit(form.xml)).toBe(201); // HQ: a duplicate, stored as XFormDuplicate
    // A case block with an invalid date is an error form (422 on OpenRosa 3.0).
    const bad = formXml().xml.replace(
      '<q>1</q>',
      `<q>1</q><case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${randomUUID()}" date_modified="not a date"><update><x>1</x></update></case>`,
    );
    expect(await submit(bad)).toBe(422);
    const marker = formXml();
    expect(await submit(marker.xml)).toBe(201);
    await until('the marker form', () => sink.firstArrival.has(marker.id) || undefined);
    expect(sink.records.map((r) => r.formId)).toEqual([form.id, marker.id]);
    expect((await a.dataForwarding.allRecords(f.id)).map((r) => r.payload_id)).toEqual([form.id, marker.id]);
    await a.dataForwarding.delete(f.id);
  });

  it('an unreachable URL gives failed records with the reason; the receiver is never stuck', async () => {
    const a = api();
    // A port nothing listens on any more: the connection is refused.
    const gone = await newSink();
    await gone.stop();
    const f = await a.dataForwarding.create({
      type: 'ShortFormRepeater',
      url: `http://127.0.0.1:${gone.port}/nowhere`,
    });
    const form = formXml();
    const t0 = Date.now();
    expect(await submit(form.xml)).toBe(201);
    expect(Date.now() - t0).toBeLessThan(1000);
    const r = await until(
      'a failed record',
      async () => (await a.dataForwarding.records(f.id, { state: 'failed' })).objects[0],
    );
    expect(r).toMatchObject({
      payload_id: form.id,
      state: 'failed',
      succeeded: false,
      last_response: { status: null, body: '' },
    });
    expect(r.failure_reason).toMatch(/ECONNREFUSED/);
    expect(r.next_check).not.toBeNull();
    await a.dataForwarding.delete(f.id);
    const after = await a.dataForwarding.allRecords(f.id).catch((e: unknown) => e);
    expect((after as HttpError).status).toBe(404);
  });

  it('a receiver that rejects (4xx) cancels the record after 3 attempts and moves on', async () => {
    const a = api();
    const sink = await newSink({ failFirst: 3, failStatus: 400 });
    const f = await a.dataForwarding.create({ type: 'FormRepeater', url: sink.url });
    const first = formXml();
    const second = formXml();
    expect(await submit(first.xml)).toBe(201);
    expect(await submit(second.xml)).toBe(201);
    await until('the second form', () => sink.firstArrival.has(second.id) || undefined);
    const records = await until('the log', async () => {
      const all = await a.dataForwarding.allRecords(f.id);
      return all.every((r) => r.state === 'success' || r.state === 'cancelled') ? all : undefined;
    });
    expect(records.map((r) => [r.payload_id, r.state, r.attempts])).toEqual([
      [first.id, 'cancelled', 3],
      [second.id, 'success', 1],
    ]);
    expect(records[0]?.failure_reason).toMatch(/HTTP 400.*cancelled after 3 attempts/);
    expect(records[0]?.last_response?.status).toBe(400);
    await a.dataForwarding.delete(f.id);
  });

  it('ShortFormRepeater posts JSON; CaseRepeater posts the case (XML or JSON) filtered by case type; xmlns filter', async () => {
    const a = api();
    const short = await newSink();
    const cases = await newSink();
    const casesJson = await newSink();
    const onlyX = await newSink();
    const fs = [
      await a.dataForwarding.create({ type: 'ShortFormRepeater', url: short.url }),
      await a.dataForwarding.create({
        type: 'CaseRepeater',
        url: cases.url,
        white_listed_case_types: ['household'],
      }),
      await a.dataForwarding.create({ type: 'CaseRepeater', url: casesJson.url, format: 'case_json' }),
      await a.dataForwarding.create({
        type: 'FormRepeater',
        url: onlyX.url,
        white_listed_form_xmlns: ['http://x/only'],
      }),
    ];
    const caseId = randomUUID();
    const memberId = randomUUID();
    const f1 = formXml({ caseId });
    const f2 = formXml({ caseId: memberId, caseType: 'member', xmlns: 'http://x/only' });
    expect(await submit(f1.xml)).toBe(201);
    expect(await submit(f2.xml)).toBe(201);
    await until('short forms', () => short.accepted >= 2 || undefined);
    await until(
      'cases',
      () => (cases.accepted >= 1 && casesJson.accepted >= 2 && onlyX.accepted >= 1) || undefined,
    );
    await new Promise((r) => setTimeout(r, 100));
    const j = JSON.parse(short.records[0]?.body ?? '{}') as Record<string, unknown>;
    expect(j).toEqual({
      form_id: f1.id,
      received_on: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*\.\d{6}Z$/),
      case_ids: [caseId],
    });
    expect(short.records[0]?.contentType).toBe('application/json');
    expect(cases.records.map((r) => r.caseId)).toEqual([caseId]);
    expect(cases.records[0]?.body).toMatch(
      /<case xmlns="http:\/\/commcarehq.org\/case\/transaction\/v2" case_id=".*<create><case_type>household<\/case_type>.*<village>Riverside<\/village>/,
    );
    expect(casesJson.records.map((r) => r.caseId)).toEqual([caseId, memberId]);
    expect(onlyX.records.map((r) => r.formId)).toEqual([f2.id]);
    for (const f of fs) await a.dataForwarding.delete(f.id);
  });

  it('AppStructureRepeater posts the app id when an app gets a new version', async () => {
    const a = api();
    const sink = await newSink();
    const f = await a.dataForwarding.create({ type: 'AppStructureRepeater', url: sink.url });
    const app = hq.app.db.prepare("SELECT id FROM applications WHERE domain = 'demo' LIMIT 1").get() as {
      id: string;
    };
    // What a new build does to the app row (apps/bump-app-version.ts).
    hq.app.db.prepare('UPDATE applications SET version = version + 1 WHERE id = ?').run(app.id);
    await until('the app id', () => sink.accepted >= 1 || undefined);
    expect(sink.records.map((r) => [r.body, r.contentType])).toEqual([[app.id, 'text/plain; charset=utf-8']]);
    await a.dataForwarding.delete(f.id);
  });
});

describe('forwarding across an emulator restart', () => {
  it('resumes from its cursor: records left pending are sent after the restart, in order, once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fieldsim-fwd-restart-'));
    const opts = {
      dataDir,
      forwarding: { pollMs: 10, backoffMs: 40, maxBackoffMs: 100, maxServerAttempts: 500 },
    };
    const first = await startEmulator(opts);
    const saved = hq;
    hq = first;
    try {
      const gone = await newSink();
      await gone.stop();
      const f = await api().dataForwarding.create({ type: 'ShortFormRepeater', url: gone.url });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const form = formXml();
        ids.push(form.id);
        expect(await submit(form.xml)).toBe(201);
      }
      await until(
        'a failed attempt',
        async () => (await api().dataForwarding.records(f.id, { state: 'failed' })).objects[0],
      );
      await first.close();
      const second = await startEmulator(opts);
      hq = second;
      const back = await newSink({ port: gone.port });
      await until('all five', () => back.accepted >= 5 || undefined);
      await new Promise((r) => setTimeout(r, 100));
      expect(back.records.map((r) => r.formId)).toEqual(ids);
      await until(
        'the log',
        async () => (await api().dataForwarding.get(f.id)).record_counts?.success === 5 || undefined,
      );
      expect((await api().dataForwarding.get(f.id)).record_counts).toMatchObject({
        success: 5,
        pending: 0,
        failed: 0,
      });
      await second.close();
    } finally {
      hq = saved;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("forwarding on the emulator's own event loop (thread: false)", () => {
  it('forwards in order as the threaded engine does', async () => {
    const saved = hq;
    hq = await startEmulator({ forwarding: { thread: false, pollMs: 10 } });
    try {
      const sink = await newSink();
      const f = await api().dataForwarding.create({ type: 'ShortFormRepeater', url: sink.url });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const form = formXml();
        ids.push(form.id);
        expect(await submit(form.xml)).toBe(201);
      }
      await until('three forms', () => sink.accepted >= 3 || undefined);
      expect(sink.records.map((r) => r.formId)).toEqual(ids);
      await until(
        'the log',
        async () => (await api().dataForwarding.get(f.id)).record_counts?.success === 3 || undefined,
      );
    } finally {
      await hq.close();
      hq = saved;
    }
  });
});
