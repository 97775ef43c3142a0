import { describe, expect, it } from 'vitest';
import { caseStateHash } from '../../src/server/restore/state-hash.ts';
import { phoneAdds } from '../../src/server/restore/sync-log-adds.ts';
import {
  getSyncLog,
  phoneMembership,
  pruneSyncLogs,
  saveSyncLog,
} from '../../src/server/restore/sync-logs.ts';
import { basic, CASE_NS, demoEmulator, kids, multipart, xml } from './helpers.ts';

const fx = demoEmulator();

async function restore(query = '', device = 'adds-test'): Promise<{ status: number; body: string }> {
  const sep = query === '' ? '?' : '&';
  const res = await fetch(`${fx.emu.url}/a/demo/phone/restore/${query}${sep}device_id=${device}`, {
    headers: { authorization: basic('worker1') },
  });
  return { status: res.status, body: await res.text() };
}

async function submit(id: string, caseXml: string, token: string): Promise<void> {
  const form = `<data xmlns="http://fieldsim.dev/test/adds">${caseXml}<meta><instanceID>${id}</instanceID></meta></data>`;
  const res = await fetch(`${fx.emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body: multipart(form),
    headers: {
      authorization: basic('worker1'),
      'X-OpenRosa-Version': '3.0',
      'X-CommCareHQ-LastSyncToken': token,
    },
  });
  expect(res.status).toBe(201);
}

function storedList(token: string): string[] {
  const row = fx.emu.app.db
    .prepare('SELECT case_ids_on_phone AS l FROM sync_logs WHERE id = ?')
    .get(token) as {
    l: string;
  };
  return JSON.parse(row.l) as string[];
}

const create = (id: string, extra = '') =>
  `<case xmlns="${CASE_NS}" case_id="${id}" date_modified="2026-06-01T00:00:00Z" user_id="${fx.w1}"><create><case_type>member</case_type><case_name>${id}</case_name><owner_id>${fx.w1}</owner_id></create>${extra}</case>`;

describe("a form's new cases on the phone list, kept apart from the sync log's list", () => {
  let token: string;
  let initial: string[];

  it('appends created cases without rewriting the stored list; the log reads them after it', async () => {
    const { body } = await restore();
    token = /<restore_id>(\w+)<\/restore_id>/.exec(body)![1]!;
    initial = kids(xml(body), 'case').map((c) => c.attrs.case_id!);
    expect(storedList(token).sort()).toEqual([...initial].sort());
    await submit('adds-1', create('adds-case-1'), token);
    await submit('adds-2', create('adds-case-2') + create('adds-case-3'), token);
    expect(storedList(token).sort()).toEqual([...initial].sort());
    expect(phoneAdds(fx.emu.app.db, token)).toEqual(['adds-case-1', 'adds-case-2', 'adds-case-3']);
    const log = getSyncLog(fx.emu.app.db, token)!;
    expect(log.caseIdsOnPhone).toEqual([...storedList(token), 'adds-case-1', 'adds-case-2', 'adds-case-3']);
  });

  it('an incremental restore sees the phone holding them: state hash accepted, nothing resent', async () => {
    const phone = [...initial, 'adds-case-1', 'adds-case-2', 'adds-case-3'];
    const inc = await restore(`?since=${token}&state=ccsh:${caseStateHash(phone)}`);
    expect(inc.status).toBe(200);
    expect(kids(xml(inc.body), 'case').map((c) => c.attrs.case_id)).toEqual([]);
  });

  it('a form that removes a case from the phone rewrites the list, with the additions, and drops them', async () => {
    await submit(
      'adds-3',
      `<case xmlns="${CASE_NS}" case_id="adds-case-2" date_modified="2026-06-02T00:00:00Z" user_id="${fx.w1}"><close/></case>`,
      token,
    );
    expect(phoneAdds(fx.emu.app.db, token)).toEqual([]);
    const stored = storedList(token);
    expect(stored).toContain('adds-case-1');
    expect(stored).toContain('adds-case-3');
    expect(stored).not.toContain('adds-case-2');
    expect(getSyncLog(fx.emu.app.db, token)!.caseIdsOnPhone).toEqual(stored);
  });

  it('pruned logs take their additions with them', async () => {
    await submit('adds-4', create('adds-case-4'), token);
    expect(phoneAdds(fx.emu.app.db, token)).toEqual(['adds-case-4']);
    const log = getSyncLog(fx.emu.app.db, token)!;
    fx.emu.app.db.prepare('DELETE FROM sync_logs WHERE id = ?').run(token);
    expect(phoneAdds(fx.emu.app.db, token)).toEqual([]);
    // pruneSyncLogs deletes rows the same way (the trigger is on the table).
    pruneSyncLogs(fx.emu.app.db, log, 0);
    expect(
      fx.emu.app.db.prepare('SELECT COUNT(*) AS n FROM sync_log_phone_adds WHERE log_id = ?').get(token),
    ).toEqual({ n: 0 });
  });
});

describe('sync log lists parsed once per version', () => {
  function newLog(id: string, onPhone: string[]): void {
    saveSyncLog(fx.emu.app.db, {
      id,
      domain: 'demo',
      userId: fx.w1,
      date: new Date().toISOString(),
      previousLogId: null,
      deviceId: 'lists-test',
      appId: '',
      ownerIds: [fx.w1],
      caseIdsOnPhone: onPhone,
      dependentCaseIds: [],
    });
  }

  it('a rewrite by any path (SQL included) is seen by the next read; callers get their own arrays', () => {
    const db = fx.emu.app.db;
    newLog('lists-1', ['a', 'b']);
    const first = getSyncLog(db, 'lists-1')!;
    expect(first.caseIdsOnPhone).toEqual(['a', 'b']);
    first.caseIdsOnPhone.push('mutated');
    expect(getSyncLog(db, 'lists-1')!.caseIdsOnPhone).toEqual(['a', 'b']);
    db.prepare(`UPDATE sync_logs SET case_ids_on_phone = '["c"]' WHERE id = 'lists-1'`).run();
    expect(getSyncLog(db, 'lists-1')!.caseIdsOnPhone).toEqual(['c']);
    const log = getSyncLog(db, 'lists-1')!;
    expect(phoneMembership(db, log)('c')).toBe(true);
    expect(phoneMembership(db, log)('a')).toBe(false);
  });

  it('a rewrite rolled back, then another rewrite: the read gives the committed list', () => {
    const db = fx.emu.app.db;
    newLog('lists-2', ['x']);
    expect(getSyncLog(db, 'lists-2')!.caseIdsOnPhone).toEqual(['x']);
    const failing = db.transaction(() => {
      db.prepare(`UPDATE sync_logs SET case_ids_on_phone = '["rolled-back"]' WHERE id = 'lists-2'`).run();
      // Read (and cached) inside the transaction that is about to fail.
      expect(getSyncLog(db, 'lists-2')!.caseIdsOnPhone).toEqual(['rolled-back']);
      throw new Error('commit fails');
    });
    expect(() => failing()).toThrow('commit fails');
    expect(getSyncLog(db, 'lists-2')!.caseIdsOnPhone).toEqual(['x']);
    db.prepare(`UPDATE sync_logs SET case_ids_on_phone = '["y"]' WHERE id = 'lists-2'`).run();
    expect(getSyncLog(db, 'lists-2')!.caseIdsOnPhone).toEqual(['y']);
  });

  it('a log deleted and written again under the same id is read anew', () => {
    const db = fx.emu.app.db;
    newLog('lists-3', ['p']);
    expect(getSyncLog(db, 'lists-3')!.caseIdsOnPhone).toEqual(['p']);
    db.prepare(`DELETE FROM sync_logs WHERE id = 'lists-3'`).run();
    expect(getSyncLog(db, 'lists-3')).toBeUndefined();
    newLog('lists-3', ['q']);
    expect(getSyncLog(db, 'lists-3')!.caseIdsOnPhone).toEqual(['q']);
  });
});
