import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { instanceResolver } from '../../../src/core/apps/app-device-data.ts';
import { readDeviceData } from '../../../src/core/apps/read-device-data.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { compileXPath } from '../../../src/core/xforms/xpath/compile-xpath.ts';
import type { XPathEnvironment } from '../../../src/core/xforms/xpath/xpath-types.ts';
import { readSample } from '../../contract/samples.ts';

async function deviceFrom(sample: string) {
  const db = new FieldsimDb(`device-data-${Math.random()}`, { indexedDB: new IDBFactory(), IDBKeyRange });
  async function* body() {
    yield readSample(sample);
  }
  await ingestRestore(db, body(), { mode: 'full', purge: true });
  try {
    return await readDeviceData(db, { deviceId: 'dev-1', appVersion: 'v1' });
  } finally {
    db.close();
  }
}

function evaluate(
  resolve: ReturnType<typeof instanceResolver>,
  ids: Record<string, string>,
  expr: string,
): string {
  const docs = new Map(Object.entries(ids).map(([id, src]) => [id, resolve(src, id)]));
  const env: XPathEnvironment = {
    instance: (id) => docs.get(id),
    now: () => new Date(),
    random: () => 0.5,
    uuid: () => 'u',
  };
  const root = resolve('jr://instance/session', 'commcaresession');
  if (!root) throw new Error('no session instance');
  return compileXPath(expr).evaluateString({ node: root, position: 1, size: 1, env });
}

describe('device data for apps', () => {
  it('reads cases, fixtures and the user of a restore into the casedb, fixture and session instances', async () => {
    const device = await deviceFrom('commcare-core/case_create_basic.xml');
    expect(device.user).toMatchObject({ username: 'test', userid: 'test_example', deviceid: 'dev-1' });
    const resolve = instanceResolver(device, { case_id: 'case_one' });
    const ids = {
      casedb: 'jr://instance/casedb',
      groups: 'jr://fixture/user-groups',
      commcaresession: 'jr://instance/session',
    };
    expect(
      evaluate(
        resolve,
        ids,
        "instance('casedb')/casedb/case[@case_id = instance('commcaresession')/session/data/case_id]/case_name",
      ),
    ).toBe('case');
    expect(evaluate(resolve, ids, "instance('groups')/groups/group/@id")).toBe('test_group');
    expect(evaluate(resolve, ids, "instance('commcaresession')/session/context/userid")).toBe('test_example');
  });

  it("builds jr://instance/ledgerdb from the restore's balances, empty without any", async () => {
    const device = await deviceFrom('commcare-core/ledger_create_basic.xml');
    const ids = { ledger: 'jr://instance/ledgerdb', commcaresession: 'jr://instance/session' };
    const resolve = instanceResolver(device, {});
    expect(
      evaluate(
        resolve,
        ids,
        "instance('ledger')/ledgerdb/ledger[@entity-id='market_basket']/section[@section-id='cleaning_stock']/entry[@id='dish_soap']",
      ),
    ).toBe('100');
    expect(
      evaluate(resolve, ids, "sum(instance('ledger')/ledgerdb/ledger[@entity-id='market_basket']//entry)"),
    ).toBe('118');
    const empty = instanceResolver(await deviceFrom('commcare-core/case_create_basic.xml'), {});
    expect(evaluate(empty, ids, "count(instance('ledger')/ledgerdb/ledger)")).toBe('0');
  });
});
