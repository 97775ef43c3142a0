import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDateHeader } from '../../src/server/casexml/dates.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, CASE_NS, multipart } from './helpers.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

/** A form whose case block has no date_modified, so the case falls back to received_on. */
function form(instanceId: string, caseId: string, value: string): string {
  return (
    `<data xmlns="http://fieldsim.dev/test/submit-time"><case xmlns="${CASE_NS}" case_id="${caseId}">` +
    `<create><case_type>t</case_type><case_name>n</case_name><owner_id>o</owner_id></create><update><v>${value}</v></update></case>` +
    `<meta><instanceID>${instanceId}</instanceID></meta></data>`
  );
}

function submit(xmlText: string, headers: Record<string, string>) {
  return fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(xmlText),
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0', ...headers },
  });
}

const row = (id: string) =>
  emu.app.db.prepare('SELECT received_on, date_header FROM forms WHERE form_id = ?').get(id) as
    | { received_on: string; date_header: string | null }
    | undefined;

describe('X-Submit-Time and Date on submissions (couchforms getters)', () => {
  it('X-Submit-Time becomes received_on (and the case date guessed from it); Date is stored as HQ formats it', async () => {
    const res = await submit(form('st-1', 'st-case', 'a'), {
      'X-Submit-Time': '2020-05-01T10:00:00+02:00',
      Date: 'Mon, 11 Apr 2011 18:24:43 GMT',
    });
    expect(res.status).toBe(201);
    expect(row('st-1')).toEqual({
      received_on: '2020-05-01T08:00:00.000Z',
      date_header: '2011-04-11T18:24:43Z',
    });
    expect(emu.app.hq.processor.cases.get('st-case')!.modifiedOn).toBe('2020-05-01T08:00:00.000Z');
    const api = await fetch(`${emu.url}/a/demo/api/v0.5/form/st-1/`, {
      headers: { authorization: 'ApiKey admin@example.com:fieldsim-demo-key' },
    });
    expect(((await api.json()) as { received_on: string }).received_on).toBe('2020-05-01T08:00:00.000000Z');
  });

  it('an edit keeps its original received_on whatever X-Submit-Time says', async () => {
    const res = await submit(form('st-1', 'st-case', 'b'), { 'X-Submit-Time': '2024-01-01T00:00:00Z' });
    expect(res.status).toBe(201);
    expect(row('st-1')!.received_on).toBe('2020-05-01T08:00:00.000Z');
    expect(emu.app.hq.processor.cases.get('st-case')!.properties.v).toBe('b');
  });

  it('an X-Submit-Time that cannot be parsed fails the request and stores nothing', async () => {
    const res = await submit(form('st-2', 'st-case-2', 'a'), { 'X-Submit-Time': 'last tuesday' });
    expect(res.status).toBe(500);
    expect(row('st-2')).toBeUndefined();
    expect(emu.app.hq.processor.cases.get('st-case-2')).toBeUndefined();
  });

  it('keeps a Date header it cannot read as sent', () => {
    expect(formatDateHeader('Tue, 1 Mar 2016 09:21:48 GMT')).toBe('2016-03-01T09:21:48Z');
    expect(formatDateHeader('Tue, 31 Feb 2016 09:21:48 GMT')).toBe('Tue, 31 Feb 2016 09:21:48 GMT');
    expect(formatDateHeader('2016-03-01T09:21:48Z')).toBe('2016-03-01T09:21:48Z');
    expect(formatDateHeader('yesterday')).toBe('yesterday');
  });
});
