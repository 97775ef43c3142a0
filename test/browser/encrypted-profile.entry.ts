/**
 * Browser side of the on-disk scan of encryption at rest: a restore and a form save into
 * real IndexedDB, with the data key opened (or not, for the control origin). The secret
 * strings come in as arguments, so they are nowhere in this bundle.
 */
import { createDataKey } from '../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../src/core/crypto/record-cipher.ts';
import { outboxForCaseDb } from '../../src/core/outbox/outbox-for-case-db.ts';
import { installStrictOutboxDurability } from '../../src/core/outbox/outbox-store.ts';
import { fromString } from '../../src/core/protocol/restore/restore-parser.ts';
import { composeForm } from '../../src/core/protocol/submission/compose-form.ts';
import { CaseDb } from '../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../src/core/store/restore-ingest.ts';

interface Secrets {
  caseName: string;
  property: string;
  answer: string;
}

async function run(
  encrypt: boolean,
  s: Secrets,
): Promise<{ cases: number; name: string; xmlHasAnswer: boolean }> {
  const db = new FieldsimDb(`scan-${encrypt ? 'enc' : 'plain'}`, { indexedDB, IDBKeyRange });
  installStrictOutboxDurability(db);
  if (encrypt) db.vault.open(new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key));
  const cases: string[] = [];
  for (let i = 0; i < 200; i++)
    cases.push(
      `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01T00:00:00Z" user_id="u1"><create><case_type>patient</case_type><case_name>${s.caseName} ${i}</case_name><owner_id>u1</owner_id></create><update><village>${s.property}</village></update></case>`,
    );
  await ingestRestore(
    db,
    fromString(
      `<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>t</restore_id></Sync>${cases.join('')}</OpenRosaResponse>`,
    ),
    { mode: 'full', purge: false },
  );
  const caseDb = new CaseDb(db);
  const outbox = outboxForCaseDb(db, { caseDb });
  const form = composeForm({
    xmlns: 'http://example.org/visit',
    name: 'Visit',
    meta: {
      deviceId: 'd',
      timeStart: '2026-01-01T00:00:00.000Z',
      timeEnd: '2026-01-01T00:00:01.000Z',
      username: 'w',
      userId: 'u1',
      instanceId: '00000000-0000-4000-8000-000000000001',
    },
    children: [
      { name: 'symptoms', value: s.answer },
      { caseBlock: { caseId: 'c1', actions: [{ kind: 'update', fields: [['symptoms', s.answer]] }] } },
    ],
  });
  await outbox.enqueue(form);
  const n = await caseDb.count();
  const name = (await caseDb.get('c7'))?.caseName ?? '';
  const xml = (await outbox.getXml(form.instanceId)) ?? '';
  outbox.close();
  db.close();
  return { cases: n, name, xmlHasAnswer: xml.includes(s.answer) };
}

(globalThis as unknown as { fieldsimScan: unknown }).fieldsimScan = { run };
