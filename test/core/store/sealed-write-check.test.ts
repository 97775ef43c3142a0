import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { fromString } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb, caseTables } from '../../../src/core/store/case-db.ts';
import { StaleCaseState } from '../../../src/core/store/case-writer.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

/**
 * An encrypted save's prepared write checks the stored case state together with its
 * writes (no read round trip first): a write prepared from a state another connection
 * has since moved is aborted whole, typed `StaleCaseState`, and nothing of it is kept.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const update = (caseId: string, value: string) => [
  {
    caseId,
    dateModified: '2024-02-01T00:00:00Z',
    userId: 'u1',
    actions: [{ kind: 'update' as const, fields: [['village', value]] as [string, string][] }],
  },
];

describe('sealed write state check', () => {
  it('a stale prepared write aborts its transaction and keeps nothing; prepared again it lands', async () => {
    const factory = new IDBFactory();
    const c = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);
    const connect = (): FieldsimDb => {
      const db = new FieldsimDb('stale-check', { indexedDB: factory, IDBKeyRange });
      db.vault.open(c);
      open.push(db);
      return db;
    };
    const a = connect();
    const cases = Array.from(
      { length: 40 },
      (_, i) =>
        `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01T10:00:00Z" user_id="u1"><create><case_type>patient</case_type><case_name>N${i}</case_name><owner_id>o</owner_id></create></case>`,
    ).join('');
    await ingestRestore(
      a,
      fromString(
        `<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>t</restore_id></Sync>${cases}</OpenRosaResponse>`,
      ),
      { mode: 'full', purge: false },
    );
    const aCases = new CaseDb(a);
    expect((await aCases.get('c1'))?.caseName).toBe('N1');
    const prep = await aCases.prepareBlocks(update('c1', 'from-a'));

    const b = connect();
    await new CaseDb(b).applyBlocks(update('c30', 'from-b'));

    const err = await a.transaction('rw', caseTables(a), () => prep.write()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleCaseState);
    const check = new CaseDb(connect());
    expect((await check.get('c1'))?.properties.village).toBeUndefined();
    expect((await check.get('c30'))?.properties.village).toBe('from-b');

    const again = await aCases.prepareBlocks(update('c1', 'from-a'), { fresh: true });
    await a.transaction('rw', caseTables(a), () => again.write());
    const after = new CaseDb(connect());
    expect((await after.get('c1'))?.properties.village).toBe('from-a');
    expect((await after.get('c30'))?.properties.village).toBe('from-b');
    expect(await after.count()).toBe(40);
  });
});
