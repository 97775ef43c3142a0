import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_XMLNS } from '../../src/server/seed/demo-app.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * Submissions shaped exactly as the demo app's XForms produce them on a phone (the
 * primary instance of modules-0/forms-0.xml and modules-1/forms-0.xml, answered, with
 * the case block's calculates and the meta filled in), written out by hand, go through
 * the emulator's receiver: the cases come out with the type, owner, properties, index
 * and the `uuid()` case id the session datum made.
 */

const KEY = 'ApiKey admin@example.com:fieldsim-demo-key';
let hq: StartedEmulator;
let userId: string;
let groupId: string;

beforeAll(async () => {
  hq = await startEmulator();
  userId = (
    hq.app.db.prepare("SELECT id FROM users WHERE username = 'worker1@demo.commcarehq.org'").get() as {
      id: string;
    }
  ).id;
  groupId = (hq.app.db.prepare("SELECT id FROM groups WHERE domain = 'demo'").get() as { id: string }).id;
});
afterAll(async () => {
  await hq.close();
});

const basic = (user: string) => `Basic ${Buffer.from(`${user}:fieldsim`).toString('base64')}`;

/**
 * The meta block as the phone writes it; `prefix` is the namespace prefix its serialiser
 * chose (CommCare writes `n0:`, `n1:`... where the form had `orx:`).
 */
function meta(instanceId: string, time: string, prefix = 'orx'): string {
  const p = prefix;
  return (
    `<${p}:meta xmlns:${p}="http://openrosa.org/jr/xforms" xmlns:cc="http://commcarehq.org/xforms">` +
    `<${p}:deviceID>fieldsim-test-device</${p}:deviceID><${p}:timeStart>${time}</${p}:timeStart>` +
    `<${p}:timeEnd>${time}</${p}:timeEnd><${p}:username>worker1</${p}:username><${p}:userID>${userId}</${p}:userID>` +
    `<${p}:instanceID>${instanceId}</${p}:instanceID>` +
    `<cc:appVersion>CommCare Version 2.53, App Version: 3</cc:appVersion></${p}:meta>`
  );
}

async function submit(xml: string): Promise<Response> {
  const fd = new FormData();
  fd.append('xml_submission_file', new Blob([xml], { type: 'text/xml' }), 'form.xml');
  return fetch(`${hq.url}/a/demo/receiver/`, {
    method: 'POST',
    body: fd,
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
  });
}

async function caseJson(caseId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${hq.url}/a/demo/api/v0.5/case/${caseId}/`, { headers: { authorization: KEY } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('the demo app on the receiver', () => {
  const householdId = randomUUID();

  it("creates a household from Register household's instance, keeping the uuid() case id", async () => {
    const time = '2026-03-02T09:15:00.000+01:00';
    const xml =
      `<?xml version='1.0' ?><data xmlns:jrm="http://dev.commcarehq.org/jr/xforms" xmlns="${DEMO_XMLNS.registerHousehold}" ` +
      'uiVersion="1" version="3" name="Register household">' +
      '<household_name>Okafor household</household_name><village>hilltop</village><household_size>2</household_size>' +
      '<members><member_name>Ada</member_name></members><members><member_name>Chidi</member_name></members>' +
      '<members_named>2</members_named><summary/>' +
      `<n0:case xmlns:n0="http://commcarehq.org/case/transaction/v2" case_id="${householdId}" date_modified="${time}" user_id="${userId}">` +
      `<n0:create><n0:case_name>Okafor household</n0:case_name><n0:owner_id>${groupId}</n0:owner_id><n0:case_type>household</n0:case_type></n0:create>` +
      '<n0:update><n0:village>hilltop</n0:village><n0:household_size>2</n0:household_size><n0:visit_count>0</n0:visit_count></n0:update></n0:case>' +
      meta(randomUUID(), time, 'n1') +
      '</data>';
    const res = await submit(xml);
    expect(res.status).toBe(201);
    const c = await caseJson(householdId);
    expect(c.case_id).toBe(householdId);
    const props = c.properties as Record<string, string>;
    expect([props.case_type, props.owner_id, props.case_name]).toEqual([
      'household',
      groupId,
      'Okafor household',
    ]);
    expect([props.village, props.household_size, props.visit_count]).toEqual(['hilltop', '2', '0']);
    expect(c.closed).toBe(false);
    // Owned by the case-sharing group, the case reaches the other worker of the group too.
    const restore = await fetch(`${hq.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('worker2') },
    });
    expect(await restore.text()).toContain(`case_id="${householdId}"`);
  });

  it('updates it from Follow up, and creates a member indexed to it from Register member', async () => {
    const time = '2026-03-03T10:00:00.000Z';
    const follow =
      `<data xmlns:jrm="http://dev.commcarehq.org/jr/xforms" xmlns="${DEMO_XMLNS.followUp}" uiVersion="1" version="3" name="Follow up">` +
      '<case_name>Okafor household</case_name><village>hilltop</village><previous_visits>0</previous_visits>' +
      '<village_name>Hilltop</village_name><visit_info/><visit_count>1</visit_count>' +
      '<last_visit_notes>All well</last_visit_notes><household_size>3</household_size>' +
      `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${householdId}" date_modified="${time}" user_id="${userId}">` +
      '<update><visit_count>1</visit_count><last_visit_notes>All well</last_visit_notes><household_size>3</household_size></update></case>' +
      `${meta(randomUUID(), time)}</data>`;
    expect((await submit(follow)).status).toBe(201);
    const hh = (await caseJson(householdId)).properties as Record<string, string>;
    expect([hh.visit_count, hh.last_visit_notes, hh.household_size]).toEqual(['1', 'All well', '3']);

    const memberId = randomUUID();
    const member =
      `<data xmlns:jrm="http://dev.commcarehq.org/jr/xforms" xmlns="${DEMO_XMLNS.registerMember}" uiVersion="1" version="3" name="Register member">` +
      '<household_name>Okafor household</household_name><household_info/>' +
      '<member_name>Ngozi Okafor</member_name><age>34</age><sex>female</sex>' +
      `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${memberId}" date_modified="${time}" user_id="${userId}">` +
      `<create><case_name>Ngozi Okafor</case_name><owner_id>${groupId}</owner_id><case_type>member</case_type></create>` +
      '<update><age>34</age><sex>female</sex></update>' +
      `<index><parent case_type="household">${householdId}</parent></index></case>` +
      `${meta(randomUUID(), time)}</data>`;
    expect((await submit(member)).status).toBe(201);
    const m = await caseJson(memberId);
    const props = m.properties as Record<string, string>;
    expect([props.case_type, props.owner_id, props.case_name, props.age, props.sex]).toEqual([
      'member',
      groupId,
      'Ngozi Okafor',
      '34',
      'female',
    ]);
    expect(m.indices).toEqual({
      parent: { case_type: 'household', case_id: householdId, relationship: 'child' },
    });
  });
});
