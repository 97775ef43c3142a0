import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, CASE_NS, multipart } from './helpers.ts';

const ADMIN_KEY = 'ApiKey admin@example.com:fieldsim-demo-key';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

function block(caseId: string, body: string): string {
  return `<case xmlns="${CASE_NS}" case_id="${caseId}" date_modified="2026-06-01T00:00:00Z" user_id="u1">${body}</case>`;
}
const create = (type: string) =>
  `<create><case_type>${type}</case_type><case_name>n</case_name><owner_id>o1</owner_id></create>`;
const index = (name: string, target: string, rel?: string) =>
  `<index><${name} case_type="t"${rel ? ` relationship="${rel}"` : ''}>${target}</${name}></index>`;

async function submit(id: string, blocks: string[]) {
  const form = `<data xmlns="http://fieldsim.dev/test/ext"><x>${blocks.join('')}</x><meta><instanceID>${id}</instanceID></meta></data>`;
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': '3.0' },
  });
  expect(res.status).toBe(201);
}

async function toggle(on: boolean) {
  const res = await fetch(`${emu.url}/a/demo/fieldsim/toggles/`, {
    method: 'PUT',
    headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ EXTENSION_CASES_SYNC_ENABLED: on }),
  });
  expect(res.status).toBe(200);
}

const get = (id: string) => emu.app.hq.processor.cases.get(id)!;

async function family(p: string) {
  await submit(`${p}-f1`, [
    block(`${p}-host`, create('host')),
    block(`${p}-ext`, create('ext') + index('host', `${p}-host`, 'extension')),
    block(`${p}-ext2`, create('ext') + index('host', `${p}-ext`, 'extension')),
    block(`${p}-child`, create('child') + index('parent', `${p}-host`)),
  ]);
}

describe('extension close cascade (close_extension_cases, EXTENSION_CASES_SYNC_ENABLED)', () => {
  it('without the toggle, closing a host leaves its extensions open', async () => {
    await family('off');
    await submit('off-close', [block('off-host', '<close/>')]);
    expect(get('off-host').closed).toBe(true);
    expect(get('off-ext').closed).toBe(false);
  });

  it('with the toggle, one system form closes the open extension chain, not child cases', async () => {
    await toggle(true);
    try {
      await family('on');
      await submit('on-close', [block('on-host', '<close/>')]);
      for (const id of ['on-ext', 'on-ext2'])
        expect(get(id)).toMatchObject({ closed: true, closedBy: 'system' });
      expect(get('on-child').closed).toBe(false);
      const systemForms = emu.app.db
        .prepare(
          "SELECT form_id, user_id, state FROM forms WHERE xmlns = 'http://commcarehq.org/case' AND case_ids LIKE '%on-ext%'",
        )
        .all() as { form_id: string; user_id: string; state: string }[];
      expect(systemForms).toHaveLength(1);
      expect(systemForms[0]).toMatchObject({ user_id: 'system', state: 'normal' });
      expect(get('on-ext').xformIds).toEqual(['on-f1', systemForms[0]!.form_id]);
    } finally {
      await toggle(false);
    }
  });
});
