/**
 * Browser side of the case-db contract run: exposes the same checks as Node runs
 * (test/contract/case-db.checks.ts) over the browser's real IndexedDB, plus helpers for
 * the "tab closed mid-restore" test.
 */
import { fromString } from '../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../src/core/store/restore-ingest.ts';
import { getSyncToken } from '../../src/core/store/sync-state.ts';
import { type CaseDbEnv, caseDbChecks } from '../contract/case-db.checks.ts';

let n = 0;
const deps = { indexedDB, IDBKeyRange };
const env = (): CaseDbEnv => ({
  newDb: () => new FieldsimDb(`contract-${Date.now()}-${++n}`, deps),
  reopen: (db) => new FieldsimDb(db.name, deps),
});

async function runCheck(name: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const check = caseDbChecks[name];
  if (check === undefined) return { ok: false, error: `no check named ${name}` };
  try {
    await check(env());
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
  }
}

function caseXml(i: number): string {
  return `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01T00:00:00Z" user_id="u"><create><case_type>t</case_type><case_name>Case ${i}</case_name><owner_id>u</owner_id></create></case>`;
}

function payload(token: string, from: number, count: number): string {
  let s = `<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>${token}</restore_id></Sync><Registration xmlns="http://openrosa.org/user/registration"><username>w</username><password>p</password><uuid>u</uuid><date>2024-01-01</date></Registration>`;
  for (let i = from; i < from + count; i++) s += caseXml(i);
  return `${s}</OpenRosaResponse>`;
}

/** Loads a first restore (500 cases, token "first") into the named database. */
async function loadFirst(name: string): Promise<number> {
  const db = new FieldsimDb(name, deps);
  await ingestRestore(db, fromString(payload('first', 0, 500)), { mode: 'full' });
  const c = await new CaseDb(db).count();
  db.close();
  return c;
}

/**
 * Starts a second full restore whose body trickles in forever after 60% of the payload,
 * and resolves once at least `minCases` of it were written to the staging generation:
 * the caller then closes the tab in the middle of the restore.
 */
function startSecondAndHang(name: string, minCases: number): Promise<number> {
  const db = new FieldsimDb(name, deps);
  const bytes = new TextEncoder().encode(payload('second', 1000, 3000));
  const cut = Math.floor(bytes.length * 0.6);
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (!sent) {
        sent = true;
        ctrl.enqueue(bytes.slice(0, cut));
      }
      return new Promise(() => undefined); // never delivers the rest
    },
  });
  return new Promise((resolve) => {
    void ingestRestore(db, body, {
      mode: 'full',
      batchSize: 200,
      onProgress: (p) => {
        if (p.casesWritten >= minCases) resolve(p.casesWritten);
      },
    });
  });
}

async function inspect(
  name: string,
): Promise<{ count: number; token: string | null; hasFirst: boolean; hasSecond: boolean }> {
  const db = new FieldsimDb(name, deps);
  const cdb = new CaseDb(db);
  const out = {
    count: await cdb.count(),
    token: await getSyncToken(db),
    hasFirst: (await cdb.get('c42')) !== undefined,
    hasSecond: (await cdb.get('c1042')) !== undefined,
  };
  db.close();
  return out;
}

Object.assign(globalThis, {
  fieldsimCaseDb: { names: Object.keys(caseDbChecks), runCheck, loadFirst, startSecondAndHang, inspect },
});
