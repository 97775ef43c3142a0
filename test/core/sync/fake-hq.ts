import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { Clock } from '../../../src/core/platform.ts';
import { readForm } from '../../../src/core/protocol/submission/read-form.ts';
import type { SessionPlatform } from '../../../src/core/sync/session.ts';
import { fakeFetch, openRosa, type Recorded } from '../http/fake-fetch.ts';

export interface FakeCase {
  id: string;
  type: string;
  name: string;
  owner?: string;
  parent?: string;
  closed?: boolean;
}

/** A restore payload in HQ's layout (PROTOCOL.md 3.7, 3.9), small enough to read in a test. */
export function restoreXml(token: string, cases: FakeCase[], userId = 'u1'): string {
  const caseXml = cases
    .map(
      (c) =>
        `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${c.id}" date_modified="2026-01-01T00:00:00.000000Z" user_id="${userId}">` +
        `<create><case_type>${c.type}</case_type><case_name>${c.name}</case_name><owner_id>${c.owner ?? userId}</owner_id></create>` +
        `<update><date_opened>2026-01-01</date_opened></update>` +
        (c.parent ? `<index><parent case_type="household">${c.parent}</parent></index>` : '') +
        (c.closed ? '<close/>' : '') +
        `</case>`,
    )
    .join('');
  return (
    `<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="${cases.length + 4}">` +
    `<message nature="ota_restore_success">Successfully restored account worker1!</message>` +
    `<Sync xmlns="http://commcarehq.org/sync"><restore_id>${token}</restore_id></Sync>` +
    `<Registration xmlns="http://openrosa.org/user/registration"><username>worker1</username><password>sha1$x$y</password><uuid>${userId}</uuid><date>2020-01-01</date><user_data><data key="commcare_project">demo</data></user_data></Registration>` +
    `<fixture id="user-groups" user_id="${userId}"><groups><group id="g1"><name>G</name></group></groups></fixture>` +
    caseXml +
    `</OpenRosaResponse>`
  );
}

export type Handler = (req: Recorded) => Response | Promise<Response>;

/**
 * A scripted HQ: SSO accepts worker1/fieldsim; restore and receiver answers come from
 * queues (`restore.push(...)`, `receiver.push(...)`), the last answer repeating.
 */
export function fakeHq() {
  const restore: Handler[] = [];
  const receiver: Handler[] = [];
  const submitted: string[] = [];
  let restoreCalls = 0;
  let receiverCalls = 0;
  const fetch = fakeFetch(async (req) => {
    const url = new URL(req.url);
    if (url.pathname === '/a/demo/api/v0.5/sso/') {
      const p = new URLSearchParams(req.body as string);
      if (p.get('username') === 'worker1@demo.commcarehq.org' && p.get('password') === 'fieldsim')
        return Response.json({ id: 'u1', username: 'worker1@demo.commcarehq.org', first_name: 'W' });
      return new Response(null, { status: 403 });
    }
    if (url.pathname === '/a/demo/phone/restore/') {
      const h = restore[Math.min(restoreCalls++, restore.length - 1)];
      if (!h) throw new Error('no restore answer scripted');
      return h(req);
    }
    if (url.pathname === '/a/demo/receiver/') {
      const h = receiver[Math.min(receiverCalls++, receiver.length - 1)];
      const xml = await ((req.body as FormData).get('xml_submission_file') as File).text();
      const res = h ? await h(req) : new Response(openRosa('submit_success', '   √   '), { status: 201 });
      if (res.status === 201) submitted.push(xml);
      return res;
    }
    return new Response('not found', { status: 404 });
  });
  return {
    fetch,
    restore,
    receiver,
    submitted,
    submittedIds: () => submitted.map((x) => readForm(x).meta?.instanceID ?? ''),
    restoreRequests: () => fetch.calls.filter((c) => new URL(c.url).pathname.endsWith('/phone/restore/')),
  };
}

export function ok(xml: string): Handler {
  return () => new Response(xml, { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' } });
}

export function status(code: number, body = '', headers: Record<string, string> = {}): Handler {
  return () => new Response(body, { status: code, headers });
}

/** A clock whose sleeps return at once and are recorded. */
export function instantClock(start = Date.parse('2026-02-01T08:00:00Z')): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    async sleep(ms) {
      slept.push(ms);
      now += ms;
    },
  };
}

export function platform(
  hq: ReturnType<typeof fakeHq>,
  extra: Partial<SessionPlatform> = {},
): SessionPlatform {
  let n = 0;
  return {
    indexedDB: { indexedDB: new IDBFactory(), IDBKeyRange },
    fetch: hq.fetch,
    clock: instantClock(),
    pbkdf2Iterations: 1000,
    random: () => 0.5,
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    ...extra,
  };
}
