import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HqClient } from '../../../src/core/http/hq-client.ts';
import { applyCaseBlock } from '../../../src/core/protocol/casexml/apply-case-block.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { type StartedEmulator, startEmulator } from '../../helpers/start-emulator.ts';
import { basic, CASE_NS } from '../helpers.ts';

/** Property names that are also names of Object.prototype members, kept as data. */
const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

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

describe('case properties named like Object.prototype members survive every hop', () => {
  it('submit -> server store -> API -> restore -> client store', async () => {
    const date = '2026-01-01T10:00:00.000Z';
    const update = NAMES.map((n, i) => `<${n}>value ${i}</${n}>`).join('');
    const xml =
      `<?xml version="1.0"?><data xmlns="http://fieldsim.dev/test/proto">` +
      `<case xmlns="${CASE_NS}" case_id="proto-case" date_modified="${date}" user_id="${userId}">` +
      `<create><case_type>person</case_type><case_name>Proto</case_name><owner_id>${userId}</owner_id></create>` +
      `<update>${update}<plain>p</plain></update></case>` +
      `<meta xmlns="http://openrosa.org/jr/xforms"><deviceID>t</deviceID><timeStart>${date}</timeStart><timeEnd>${date}</timeEnd>` +
      `<username>worker1</username><userID>${userId}</userID><instanceID>proto-form</instanceID></meta></data>`;
    const sub = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: xml,
      headers: { authorization: basic('worker1'), 'content-type': 'text/xml' },
    });
    expect(sub.status).toBe(201);

    // Server store.
    const stored = emu.app.hq.processor.cases.get('proto-case');
    expect(stored).toBeDefined();
    const props = stored?.properties ?? {};
    for (const [i, n] of NAMES.entries())
      expect(Object.getOwnPropertyDescriptor(props, n)?.value, n).toBe(`value ${i}`);
    expect(Object.getPrototypeOf(props)).toBe(Object.prototype);

    // Case API.
    const api = await fetch(`${emu.url}/a/demo/api/v0.5/case/proto-case/`, {
      headers: { authorization: basic('admin@example.com') },
    });
    expect(api.status).toBe(200);
    const raw = await api.text();
    for (const [i, n] of NAMES.entries()) expect(raw).toContain(`"${n}":"value ${i}"`);

    // Restore, parsed and stored by the client.
    const client = new HqClient({
      serverUrl: emu.url,
      domain: 'demo',
      username: 'worker1',
      password: 'fieldsim',
      deviceId: 'proto-device',
    });
    const r = await client.restore();
    if (r.status !== 'ok') throw new Error('restore pending');
    const db = new FieldsimDb(`proto-${Date.now()}`, { indexedDB: new IDBFactory(), IDBKeyRange });
    try {
      await ingestRestore(db, r.body, { mode: 'full' });
      const c = await new CaseDb(db).get('proto-case');
      expect(c).toBeDefined();
      const got = c?.properties ?? {};
      for (const [i, n] of NAMES.entries())
        expect(Object.getOwnPropertyDescriptor(got, n)?.value, n).toBe(`value ${i}`);
      expect(got.plain).toBe('p');
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    } finally {
      db.close();
    }
  });

  it('the client applies such names as own properties without touching the prototype', () => {
    const rec = applyCaseBlock(undefined, {
      caseId: 'c',
      dateModified: '2026-01-01T00:00:00Z',
      userId: 'u',
      actions: [
        { kind: 'create', caseType: 't', caseName: 'n', ownerId: 'u' },
        { kind: 'update', fields: NAMES.map((n) => [n, n.toUpperCase()] as [string, string]) },
      ],
    });
    expect(rec).not.toBeNull();
    const props = rec?.properties ?? {};
    expect(Object.keys(props).sort()).toEqual([...NAMES].sort());
    expect(Object.getPrototypeOf(props)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(props))).toEqual(
      Object.fromEntries(NAMES.map((n) => [n, n.toUpperCase()])),
    );
  });
});
