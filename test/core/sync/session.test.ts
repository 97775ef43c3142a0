import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors/http-error.ts';
import { login, openOffline, type Session } from '../../../src/core/sync/session.ts';
import type { RestoreProgress } from '../../../src/core/sync/session-types.ts';
import { openRosa } from '../http/fake-fetch.ts';
import { fakeHq, instantClock, ok, platform, restoreXml, status } from './fake-hq.ts';

const CASES = [
  { id: 'hh1', type: 'household', name: 'Dlamini' },
  { id: 'm1', type: 'member', name: 'Thandi', parent: 'hh1' },
];
const base = { serverUrl: 'http://hq.test', domain: 'demo', username: 'worker1', password: 'fieldsim' };

const sessions: Session[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
});
async function track(p: Promise<Session>): Promise<Session> {
  const s = await p;
  sessions.push(s);
  return s;
}

describe('login', () => {
  it('SSO, per-user database, full restore, case list', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const progress: RestoreProgress[] = [];
    const s = await track(
      login({ ...base, platform: platform(hq), onProgress: (p) => progress.push({ ...p }) }),
    );
    expect(s.info).toMatchObject({ username: 'worker1@demo.commcarehq.org', userId: 'u1', domain: 'demo' });
    expect(s.info.deviceId).toMatch(/^fieldsim-/);
    expect(await s.syncToken()).toBe('tok1');
    const page = await s.listCases({ caseType: 'household' });
    expect(page.cases.map((c) => c.caseName)).toEqual(['Dlamini']);
    expect((await s.children('hh1')).map((c) => c.caseId)).toEqual(['m1']);
    expect(await s.caseTypes()).toEqual(['household', 'member']);
    expect(progress.length).toBeGreaterThan(0);
    const req = new URL(hq.restoreRequests()[0]!.url);
    expect(req.searchParams.get('since')).toBeNull();
    expect(req.searchParams.get('user_id')).toBe('u1');
    expect(await s.lastSync()).not.toBeNull();
    // The password is not stored, only a PBKDF2 verifier.
    expect(JSON.stringify(await s.db.meta.toArray())).not.toContain('fieldsim"');
  });

  it('text search matches a part of the name or of any property value, ignoring case', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    hq.receiver.push(status(503));
    const s = await track(login({ ...base, platform: platform(hq) }));
    await s.registerCase({
      caseType: 'household',
      caseName: 'Nkosi',
      properties: { village: 'Riverside North' },
    });
    await s.registerCase({
      caseType: 'household',
      caseName: 'Riverdale',
      properties: { village: 'Hilltop' },
    });
    const names = async (q: Parameters<Session['listCases']>[0]) =>
      (await s.listCases({ ...q, status: 'all' })).cases.map((c) => c.caseName);
    expect(await names({ text: 'RIVER' })).toEqual(['Nkosi', 'Riverdale']);
    expect(await names({ text: 'ndi' })).toEqual(['Thandi']);
    expect(await names({ text: 'hill', caseType: 'member' })).toEqual([]);
    expect(await names({ text: '  north ' })).toEqual(['Nkosi']);
    expect((await s.listCases({ text: 'nowhere' })).total).toBe(0);
    // The cached result follows a change to the data.
    await s.updateCase({ caseId: 'hh1', properties: { village: 'North bank' } });
    expect(await names({ text: 'north' })).toEqual(['Dlamini', 'Nkosi']);
  });

  it('wrong password: auth-invalid, nothing opened', async () => {
    const hq = fakeHq();
    await expect(login({ ...base, password: 'nope', platform: platform(hq) })).rejects.toMatchObject({
      code: 'auth-invalid',
    });
  });

  it('a second login on the same device keeps the device id and does not restore again (auto)', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const p = platform(hq);
    const s1 = await login({ ...base, platform: p });
    const dev = s1.info.deviceId;
    s1.close();
    const s2 = await track(login({ ...base, platform: p }));
    expect(s2.info.deviceId).toBe(dev);
    expect(hq.restoreRequests()).toHaveLength(1);
  });
});

describe('openOffline', () => {
  it('opens local data without the network; sending needs unlock(password)', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const p = platform(hq);
    (await login({ ...base, platform: p })).close();
    const calls = hq.fetch.calls.length;
    const s = await track(openOffline({ domain: 'demo', username: 'worker1', platform: p }));
    expect(s.canSend()).toBe(false);
    expect((await s.listCases()).total).toBe(2);
    await s.registerCase({ caseType: 'household', caseName: 'Offline' });
    expect((await s.listOutbox()).map((i) => i.state)).toEqual(['queued']);
    expect(hq.fetch.calls.length).toBe(calls);
    await expect(s.unlock('wrong')).rejects.toMatchObject({ code: 'auth-invalid' });
    await s.unlock('fieldsim');
    expect(s.canSend()).toBe(true);
    await s.sendOutbox();
    expect((await s.listOutbox()).map((i) => i.state)).toEqual(['sent']);
  });

  it('unknown user: not-logged-in', async () => {
    const hq = fakeHq();
    await expect(
      openOffline({ domain: 'demo', username: 'nobody', platform: platform(hq) }),
    ).rejects.toMatchObject({
      code: 'not-logged-in',
    });
  });
});

describe('restore status codes (issue 3)', () => {
  it('202: waits Retry-After, reports server progress, then ingests', async () => {
    const hq = fakeHq();
    const pending = `<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="ota_restore_pending">Asynchronous restore under way for worker1</message><Sync xmlns="http://commcarehq.org/sync"><progress done="5" total="10" retry-after="4"/></Sync></OpenRosaResponse>`;
    hq.restore.push(
      status(202, pending, { 'retry-after': '3' }),
      status(202, pending),
      ok(restoreXml('tok1', CASES)),
    );
    const clock = instantClock();
    const progress: RestoreProgress[] = [];
    const s = await track(
      login({ ...base, platform: platform(hq, { clock }), onProgress: (p) => progress.push({ ...p }) }),
    );
    expect(clock.slept).toEqual([3000, 4000]);
    expect(progress.filter((p) => p.phase === 'waiting').map((p) => p.serverProgress)).toEqual([
      { done: 5, total: 10 },
      { done: 5, total: 10 },
    ]);
    expect((await s.listCases()).total).toBe(2);
  });

  it('429/503: backs off and retries; gives up with rate-limited after the limit', async () => {
    const hq = fakeHq();
    hq.restore.push(status(429), status(503, '', { 'retry-after': '9' }), ok(restoreXml('tok1', CASES)));
    const clock = instantClock();
    const s = await track(login({ ...base, platform: platform(hq, { clock }) }));
    expect(clock.slept).toEqual([1500, 9000]);
    expect(await s.syncToken()).toBe('tok1');
    hq.restore.push(status(429));
    hq.restore.splice(0, 3);
    await expect(s.sync()).rejects.toMatchObject({ code: 'rate-limited' });
  });

  it('401 and 406 are typed errors; 406 carries default_response', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.restore.splice(0, 1, status(401));
    await expect(s.sync()).rejects.toMatchObject({ code: 'auth-invalid' });
    hq.restore.splice(
      0,
      1,
      status(406, JSON.stringify({ error: 'user.deactivated', default_response: 'Ask your supervisor' })),
    );
    const e = await s.sync().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HttpError);
    expect(e).toMatchObject({ code: 'user-deactivated', serverMessage: 'Ask your supervisor' });
  });

  it('5xx and a connection dropped mid-body leave the database as it was', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.restore.splice(0, 1, status(500));
    await expect(s.restore()).rejects.toMatchObject({ code: 'server-error' });
    const full = restoreXml('tok2', [{ id: 'x1', type: 'household', name: 'New' }]);
    hq.restore.splice(0, 1, () => {
      const bytes = new TextEncoder().encode(full);
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (!sent) {
            ctrl.enqueue(bytes.slice(0, Math.floor(bytes.length * 0.8)));
            sent = true;
          } else ctrl.error(new TypeError('terminated: other side closed'));
        },
      });
      return new Response(body, { status: 200 });
    });
    await expect(s.restore()).rejects.toMatchObject({ name: 'NetworkError', code: 'network-error' });
    expect(await s.syncToken()).toBe('tok1');
    expect((await s.listCases()).cases.map((c) => c.caseId).sort()).toEqual(['hh1', 'm1']);
  });

  it('incremental sync sends since + state=ccsh:<hash> and merges', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    const hash = await s.caseStateHash();
    hq.restore.splice(0, 1, ok(restoreXml('tok2', [{ id: 'hh2', type: 'household', name: 'Zulu' }])));
    const r = await s.sync();
    expect(r).toMatchObject({ mode: 'incremental', syncToken: 'tok2' });
    const u = new URL(hq.restoreRequests()[1]!.url);
    expect(u.searchParams.get('since')).toBe('tok1');
    expect(u.searchParams.get('state')).toBe(`ccsh:${hash}`);
    expect(hq.restoreRequests()[1]!.headers.get('x-commcarehq-lastsynctoken')).toBe('tok1');
    expect((await s.listCases({ caseType: 'household' })).cases.map((c) => c.caseName)).toEqual([
      'Dlamini',
      'Zulu',
    ]);
  });

  it('an incremental sync reports what it changed, not every case on the device', async () => {
    const hq = fakeHq();
    const many = [...CASES, { id: 'hh3', type: 'household', name: 'Mokoena' }];
    hq.restore.push(ok(restoreXml('tok1', many)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    // Nothing changed on the server: three cases here, none touched.
    hq.restore.splice(0, 1, ok(restoreXml('tok2', [])));
    const quiet = await s.sync();
    expect(quiet.cases).toBe(3);
    expect(quiet.changes).toEqual({ created: 0, updated: 0, closed: 0, removed: 0 });
    // One new case, one resent whole (HQ's create + update) with a new name, one closed,
    // and one moved to another owner, which the phone's purge then drops.
    hq.restore.splice(
      0,
      1,
      ok(
        restoreXml('tok3', [
          { id: 'hh2', type: 'household', name: 'Zulu' },
          { id: 'hh1', type: 'household', name: 'Dlamini renamed' },
          { id: 'm1', type: 'member', name: 'Thandi', parent: 'hh1', closed: true },
          { id: 'hh3', type: 'household', name: 'Mokoena', owner: 'someone-else' },
        ]),
      ),
    );
    const busy = await s.sync();
    // The closed member is purged too (closed, nothing open needs it): closed and removed.
    expect(busy.changes).toEqual({ created: 1, updated: 2, closed: 1, removed: 2 });
    expect(busy.cases).toBe(2);
    // A full restore replaces everything: no per-case changes are claimed.
    expect((await s.restore()).changes).toBeUndefined();
  });

  it('412: fresh restore, one switch, unsent forms kept and re-applied', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.receiver.push(status(503));
    const { caseId } = await s.registerCase({ caseType: 'household', caseName: 'Pending' });
    hq.restore.push(
      status(412, openRosa('ota_restore_error', 'Invalid state hash')),
      ok(restoreXml('tok-fresh', [{ id: 'hh9', type: 'household', name: 'Server' }])),
    );
    const r = await s.sync();
    expect(r).toMatchObject({ mode: 'recovered', syncToken: 'tok-fresh' });
    const u = new URL(hq.restoreRequests().at(-1)!.url);
    expect(u.searchParams.has('since')).toBe(false);
    const names = (await s.listCases({ caseType: 'household' })).cases.map((c) => c.caseName);
    expect(names).toEqual(['Pending', 'Server']);
    expect((await s.getCase(caseId))?.caseName).toBe('Pending');
    expect((await s.listOutbox()).map((i) => i.state)).toEqual(['queued']);
  });
});

describe('full restores never drop unsent forms (DESIGN.md 3)', () => {
  it('a full restore carries the case changes of forms still in the outbox into the switch', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.receiver.push(status(503));
    const { caseId } = await s.registerCase({ caseType: 'household', caseName: 'Unsent' });
    hq.restore.push(ok(restoreXml('tok2', [{ id: 'hh9', type: 'household', name: 'Server' }])));
    const r = await s.restore();
    expect(r).toMatchObject({ mode: 'full', syncToken: 'tok2' });
    expect((await s.getCase(caseId))?.caseName).toBe('Unsent');
    const names = (await s.listCases({ caseType: 'household' })).cases.map((c) => c.caseName);
    expect(names).toEqual(['Server', 'Unsent']);
    expect((await s.listOutbox()).map((i) => i.state)).toEqual(['queued']);
  });

  it('a form saved while a full restore is streaming keeps its case change after the switch', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.receiver.push(status(503));
    const xml = restoreXml('tok2', [{ id: 'hh9', type: 'household', name: 'Server' }]);
    const cut = xml.indexOf('<case ');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let streaming: () => void = () => {};
    const started = new Promise<void>((r) => {
      streaming = r;
    });
    hq.restore.push(() => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(enc.encode(xml.slice(0, cut)));
          streaming();
          await gate;
          c.enqueue(enc.encode(xml.slice(cut)));
          c.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/xml' } });
    });
    const restoring = s.restore();
    await started;
    const saving = s.registerCase({ caseType: 'household', caseName: 'Saved mid-restore' });
    // Let the save reach the lock before the body finishes.
    await new Promise((r) => setTimeout(r, 20));
    release();
    const [, saved] = await Promise.all([restoring, saving]);
    expect((await s.getCase(saved.caseId))?.caseName).toBe('Saved mid-restore');
    expect((await s.getCase('hh9'))?.caseName).toBe('Server');
    expect(await s.syncToken()).toBe('tok2');
  });
});

describe('forms and sync-and-send', () => {
  it('register + update + close apply locally at once, then sync-and-send sends in order before syncing', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    const { caseId, item } = await s.registerCase({
      caseType: 'household',
      caseName: 'Nkosi',
      properties: { size: '3' },
    });
    const u = await s.updateCase({ caseId: 'hh1', properties: { visited: 'yes' } });
    const c = await s.closeCase({ caseId: 'm1' });
    expect((await s.getCase(caseId))?.properties.size).toBe('3');
    expect((await s.getCase('hh1'))?.properties.visited).toBe('yes');
    expect((await s.getCase('m1'))?.closed).toBe(true);
    hq.restore.splice(0, 1, ok(restoreXml('tok2', [])));
    // Saves already triggered sends in the background; wait for the queue, then sync.
    const report = await s.syncAndSend();
    expect(report.send.remaining).toBe(0);
    expect(hq.submittedIds()).toEqual([item.instanceId, u.instanceId, c.instanceId]);
    expect(report.restore).toMatchObject({ mode: 'incremental', syncToken: 'tok2' });
    const xml = hq.submitted[0]!;
    expect(xml).toContain('<orx:username>worker1</orx:username>');
    expect(xml).toContain('<orx:userID>u1</orx:userID>');
    expect(xml).toContain(`<orx:deviceID>${s.info.deviceId}</orx:deviceID>`);
    const sub = hq.fetch.calls.find((x) => x.url.endsWith('/receiver/'))!;
    expect(sub.headers.get('x-commcarehq-lastsynctoken')).toBe('tok1');
  });

  it('sync-and-send cancelled while a form is going out: the form finishes, no restore is asked (PWA Cancel sync)', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.receiver.push(status(503));
    await s.registerCase({ caseType: 'household', caseName: 'Cancelled' });
    const ac = new AbortController();
    // The user presses Cancel while the server is still answering the form.
    hq.receiver.splice(0, hq.receiver.length, () => {
      ac.abort();
      return new Response(openRosa('submit_success', 'ok'), { status: 201 });
    });
    const restoresBefore = hq.restoreRequests().length;
    await expect(s.syncAndSend({ signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(hq.submitted).toHaveLength(1);
    expect(hq.restoreRequests()).toHaveLength(restoresBefore);
  });

  it('sync-and-send skips the sync while forms are still waiting, and stops on 401', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const s = await track(login({ ...base, platform: platform(hq) }));
    hq.receiver.push(status(500));
    await s.updateCase({ caseId: 'hh1', properties: { a: '1' } });
    const r = await s.syncAndSend();
    expect(r.restore).toBeNull();
    expect(r.send.stoppedBy?.code).toBe('server-error');
    expect(hq.restoreRequests()).toHaveLength(1);
    hq.receiver.splice(0, 1, status(401));
    await expect(s.syncAndSend()).rejects.toMatchObject({ code: 'auth-invalid' });
  });

  it('drafts complete with their original timeStart and instanceID', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    const clock = instantClock();
    const s = await track(login({ ...base, platform: platform(hq, { clock }) }));
    const d = await s.saveDraft({
      xmlns: 'http://x/f',
      name: 'Visit',
      children: [{ name: 'q', value: '1' }],
    });
    expect(d.state).toBe('incomplete');
    await clock.sleep(60_000);
    const done = await s.completeDraft(d.instanceId);
    expect(done.instanceId).toBe(d.instanceId);
    await s.sendOutbox();
    const xml = hq.submitted.at(-1)!;
    expect(xml).toContain(`<orx:instanceID>${d.instanceId}</orx:instanceID>`);
    expect(xml).toContain('<orx:timeStart>2026-02-01T08:00:00.000Z</orx:timeStart>');
    expect(xml).toContain('<orx:timeEnd>2026-02-01T08:01:00.000Z</orx:timeEnd>');
  });
});

describe('known failures of the anchors, proved absent (issue 4)', () => {
  it('an upload that outlives its timeout is not sent twice as two forms: the resend is the same bytes', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    // The server stores every submission it sees (by instanceID, like HQ), but answers the
    // first one only after the client has given up waiting.
    const stored = new Map<string, string>();
    let first = true;
    hq.receiver.push(async (req) => {
      const xml = await ((req.body as FormData).get('xml_submission_file') as File).text();
      const id = /<orx:instanceID>([^<]+)</.exec(xml)![1]!;
      const duplicate = stored.has(id);
      if (duplicate) expect(stored.get(id)).toBe(xml);
      else stored.set(id, xml);
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 300));
      }
      return new Response(openRosa('submit_success', duplicate ? 'Form is a duplicate' : '   √   '), {
        status: 201,
      });
    });
    const s = await track(login({ ...base, platform: platform(hq), timeouts: { submitMs: 100 } }));
    const item = await s.updateCase({ caseId: 'hh1', properties: { x: '1' } });
    // The first attempt times out (the save's own trigger or this call); the run that
    // follows resends the same bytes and the server answers "duplicate".
    let r = await s.sendOutbox();
    for (let i = 0; i < 3 && r.remaining > 0; i++) r = await s.sendOutbox();
    expect(r.remaining).toBe(0);
    expect(hq.fetch.calls.filter((c) => c.url.endsWith('/receiver/'))).toHaveLength(2);
    expect([...stored.keys()]).toEqual([item.instanceId]);
    expect((await s.listOutbox())[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('one bad form does not block or lose the others (Android stuck queue, Enketo loss)', async () => {
    const hq = fakeHq();
    hq.restore.push(ok(restoreXml('tok1', CASES)));
    let n = 0;
    hq.receiver.push(() =>
      ++n === 1
        ? new Response(
            openRosa('processing_failure', "InvalidCaseIndex: Case 'a' references non-existent case 'b'"),
            {
              status: 422,
            },
          )
        : new Response(openRosa('submit_success', '   √   '), { status: 201 }),
    );
    const s = await track(login({ ...base, platform: platform(hq) }));
    s.logout();
    for (let i = 0; i < 4; i++) await s.updateCase({ caseId: 'hh1', properties: { i: String(i) } });
    await s.unlock('fieldsim');
    await s.sendOutbox();
    const l = await s.listOutbox();
    expect(l.map((i) => i.state)).toEqual(['quarantined', 'sent', 'sent', 'sent']);
    expect(l[0]?.serverMessage).toContain('InvalidCaseIndex');
    expect(await s.outboxXml(l[0]!.instanceId)).toBeDefined();
  });
});
