import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../helpers/start-emulator.ts';
import { basic, CASE_NS } from '../helpers.ts';

let emu: StartedEmulator;
let userId: string;
beforeAll(async () => {
  emu = await startEmulator();
  const res = await fetch(`${emu.url}/a/demo/api/v0.5/sso/`, {
    method: 'POST',
    body: new URLSearchParams({ username: 'worker1', password: 'fieldsim' }),
  });
  userId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await emu.close();
});

const DATE = '2026-01-01T10:00:00.000Z';
function block(caseId: string, opts: { create?: boolean; index?: Record<string, string> } = {}): string {
  const create = opts.create
    ? `<create><case_type>person</case_type><case_name>${caseId}</case_name><owner_id>${userId}</owner_id></create>`
    : '';
  const index = opts.index
    ? `<index>${Object.entries(opts.index)
        .map(([k, v]) => `<${k} case_type="person">${v}</${k}>`)
        .join('')}</index>`
    : '';
  return `<case xmlns="${CASE_NS}" case_id="${caseId}" date_modified="${DATE}" user_id="${userId}">${create}${index}</case>`;
}
function form(instanceId: string, blocks: string[]): string {
  return (
    `<?xml version="1.0"?><data xmlns="http://fieldsim.dev/test/cycles">${blocks.join('')}` +
    `<meta xmlns="http://openrosa.org/jr/xforms"><deviceID>t</deviceID><timeStart>${DATE}</timeStart><timeEnd>${DATE}</timeEnd>` +
    `<username>worker1</username><userID>${userId}</userID><instanceID>${instanceId}</instanceID></meta></data>`
  );
}
async function submit(xml: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: xml,
    headers: { authorization: basic('worker1'), 'content-type': 'text/xml', 'x-openrosa-version': '3.0' },
  });
  return { status: res.status, body: await res.text() };
}
const caseCount = (ids: string[]): number =>
  (
    emu.app.db
      .prepare(`SELECT count(*) AS n FROM cases WHERE case_id IN (${ids.map(() => '?').join(',')})`)
      .get(...ids) as { n: number }
  ).n;
const indexTargets = (id: string): string[] =>
  emu.app.db.prepare('SELECT referenced_id FROM case_indices WHERE case_id = ?').pluck().all(id) as string[];

describe('the receiver refuses case index cycles (422, nothing applied)', () => {
  it('a case indexing itself', async () => {
    const t = performance.now();
    const r = await submit(
      form('cyc-self', [block('self-1', { create: true, index: { parent: 'self-1' } })]),
    );
    expect(performance.now() - t).toBeLessThan(1000);
    expect(r.status).toBe(422);
    expect(r.body).toContain('processing_failure');
    expect(r.body).toContain("InvalidCaseIndex: Case 'self-1' indexes itself");
    expect(caseCount(['self-1'])).toBe(0);
  });

  it("two of the form's own cases indexing each other", async () => {
    const r = await submit(
      form('cyc-pair', [
        block('pair-a', { create: true, index: { parent: 'pair-b' } }),
        block('pair-b', { create: true, index: { parent: 'pair-a' } }),
      ]),
    );
    expect(r.status).toBe(422);
    expect(r.body).toMatch(/Cases index each other in a cycle: 'pair-a' -&gt; 'pair-b' -&gt; 'pair-a'/);
    expect(caseCount(['pair-a', 'pair-b'])).toBe(0);
  });

  it('a cycle closed through cases already stored, leaving them unchanged', async () => {
    expect((await submit(form('chain-1', [block('old-a', { create: true })]))).status).toBe(201);
    expect(
      (await submit(form('chain-2', [block('old-b', { create: true, index: { parent: 'old-a' } })]))).status,
    ).toBe(201);
    expect(
      (await submit(form('chain-3', [block('old-c', { create: true, index: { parent: 'old-b' } })]))).status,
    ).toBe(201);
    // old-a -> old-c closes old-a -> old-c -> old-b -> old-a.
    const r = await submit(form('chain-4', [block('old-a', { index: { host: 'old-c' } })]));
    expect(r.status).toBe(422);
    expect(r.body).toContain("'old-a' -&gt; 'old-c' -&gt; 'old-b' -&gt; 'old-a'");
    expect(indexTargets('old-a')).toEqual([]);
    // The owner's restore still works, and a legal index is still accepted.
    const restore = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('worker1'), 'x-openrosa-version': '3.0' },
    });
    expect(restore.status).toBe(200);
    expect(await restore.text()).toContain('old-c');
    expect(
      (await submit(form('chain-5', [block('old-d', { create: true, index: { parent: 'old-c' } })]))).status,
    ).toBe(201);
  });
});
