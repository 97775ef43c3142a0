import { randomUUID } from 'node:crypto';

/**
 * Submits a form straight to the emulator's receiver as another device of the same worker
 * would (no sync token): the next incremental sync of the device under test receives it.
 * Returns the case id. `close` closes an existing case instead of creating one.
 */
export async function submitFromAnotherDevice(
  baseUrl: string,
  opts: {
    username: string;
    password: string;
    userId: string;
    caseId?: string;
    name?: string;
    caseType?: string;
    properties?: Record<string, string>;
    close?: boolean;
  },
): Promise<string> {
  const caseId = opts.caseId ?? randomUUID();
  const now = new Date().toISOString();
  const props = Object.entries(opts.properties ?? {})
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('');
  const create = opts.close
    ? ''
    : `<create><case_type>${opts.caseType ?? 'household'}</case_type><case_name>${opts.name ?? 'Other device'}</case_name><owner_id>${opts.userId}</owner_id></create>`;
  const xml =
    `<?xml version="1.0"?><data xmlns="http://fieldsim.dev/test/other-device">` +
    `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="${caseId}" date_modified="${now}" user_id="${opts.userId}">` +
    create +
    (props ? `<update>${props}</update>` : '') +
    (opts.close ? '<close/>' : '') +
    `</case>` +
    `<orx:meta xmlns:orx="http://openrosa.org/jr/xforms"><orx:deviceID>other-device</orx:deviceID>` +
    `<orx:timeStart>${now}</orx:timeStart><orx:timeEnd>${now}</orx:timeEnd>` +
    `<orx:username>${opts.username}</orx:username><orx:userID>${opts.userId}</orx:userID>` +
    `<orx:instanceID>${randomUUID()}</orx:instanceID></orx:meta></data>`;
  const res = await fetch(`${baseUrl}/a/demo/receiver/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml',
      Authorization: `Basic ${Buffer.from(`${opts.username}@demo.commcarehq.org:${opts.password}`).toString('base64')}`,
    },
    body: xml,
  });
  if (res.status !== 201) throw new Error(`receiver answered ${res.status}: ${await res.text()}`);
  return caseId;
}
