import { describe, expect, it } from 'vitest';
import { fromString, parseRestoreAll } from '../../src/core/protocol/restore/restore-parser.ts';
import { basic, CASE_NS, demoEmulator, kids, multipart, xml } from './helpers.ts';

const LEDGER = 'http://commcarehq.org/ledger/v1';
const fx = demoEmulator();

async function submit(id: string, body: string, version = '3.0') {
  const form = `<data xmlns="http://fieldsim.dev/test/stock">${body}<meta><instanceID>${id}</instanceID></meta></data>`;
  const res = await fetch(`${fx.emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: { authorization: basic('worker1'), 'X-OpenRosa-Version': version },
  });
  return { status: res.status, text: await res.text() };
}
const create = (caseId: string) =>
  `<case xmlns="${CASE_NS}" case_id="${caseId}" date_modified="2026-06-01T00:00:00Z" user_id="${fx.w1}"><create><case_type>store</case_type><case_name>${caseId}</case_name><owner_id>${fx.w1}</owner_id></create></case>`;

describe('ledgers', () => {
  it('stores balances and transfers and sends them in the restore, parsed by fieldsim core', async () => {
    const r1 = await submit(
      'stock-1',
      `${create('store-a')}${create('store-b')}<balance xmlns="${LEDGER}" entity-id="store-a" date="2026-06-01" section-id="stock"><entry id="soap" quantity="10"/><entry id="nets" quantity="4"/></balance>`,
    );
    expect(r1.status).toBe(201);
    const r2 = await submit(
      'stock-2',
      `<transfer xmlns="${LEDGER}" src="store-a" dest="store-b" date="2026-06-02" section-id="stock"><entry id="soap" quantity="3"/></transfer>`,
    );
    expect(r2.status).toBe(201);
    const res = await fetch(`${fx.emu.url}/a/demo/phone/restore/?items=true`, {
      headers: { authorization: basic('worker1') },
    });
    const body = await res.text();
    const root = xml(body);
    expect(Number(root.attrs.items)).toBe(root.children.length);
    const balances = root.children.filter((c) => c.ns === LEDGER && c.local === 'balance');
    expect(balances).toHaveLength(2);
    const events = await parseRestoreAll(fromString(body));
    const ledgers = events.flatMap((e) => (e.kind === 'ledger' ? [e.balance] : []));
    const a = ledgers.find((l) => l.entityId === 'store-a')!;
    const b = ledgers.find((l) => l.entityId === 'store-b')!;
    expect(a.sectionId).toBe('stock');
    expect(a.entries).toEqual([
      { id: 'nets', quantity: 4 },
      { id: 'soap', quantity: 7 },
    ]);
    expect(b.entries).toEqual([{ id: 'soap', quantity: 3 }]);
    expect(kids(root, 'case').some((c) => c.attrs.case_id === 'store-a')).toBe(true);
  });

  it('rejects an entry without a product id: MissingProductId', async () => {
    const r = await submit(
      'stock-bad',
      `<balance xmlns="${LEDGER}" entity-id="store-a" date="2026-06-03" section-id="stock"><entry quantity="1"/></balance>`,
    );
    expect(r.status).toBe(422);
    expect(r.text).toContain('MissingProductId');
  });
});
