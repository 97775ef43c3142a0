import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../../src/cli/state/state-store.ts';
import { openSession } from '../../../src/cli/worker-session.ts';
import { registerCaseForm } from '../../../src/core/protocol/submission/generic-forms.ts';
import { testSessionRecord } from '../../helpers/session-record.ts';

/**
 * The CLI's cycle on a real core Session: save a form with an attachment into the state
 * folder's SQLite database, close it, open it again (the next command) and find the case,
 * the queued form and the attachment bytes unchanged.
 */
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-session-snap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const record = testSessionRecord();

describe('a Session across two commands', () => {
  it('keeps cases, the queued form, its order and its attachment bytes', async () => {
    const store = new StateStore(tmp);
    const bytes = new Uint8Array(256).map((_, i) => i);

    const first = store.open(record, 'submit');
    const db1 = await first.openStore();
    const s1 = await openSession(db1.deps(), record);
    const draft = registerCaseForm({ caseId: 'case-1', caseType: 'household', caseName: 'Snap' });
    const item = await s1.saveForm(draft, {
      attachments: [{ name: 'photo.jpg', blob: new Blob([bytes], { type: 'image/jpeg' }) }],
    });
    const xml = await s1.outboxXml(item.instanceId);
    expect(xml).toContain('<case_name>Snap</case_name>');
    s1.close();
    db1.close();
    first.release();

    const second = store.open(record, 'outbox');
    const db2 = await second.openStore();
    const s2 = await openSession(db2.deps(), record);
    try {
      expect((await s2.getCase('case-1'))?.caseName).toBe('Snap');
      const forms = await s2.listOutbox();
      expect(forms.map((f) => [f.instanceId, f.state, f.seq])).toEqual([
        [item.instanceId, 'queued', item.seq],
      ]);
      expect(await s2.outboxXml(item.instanceId)).toBe(xml);
      const [att] = await s2.outbox.getAttachments(item.instanceId);
      expect(att?.name).toBe('photo.jpg');
      expect(att?.blob.type).toBe('image/jpeg');
      expect([...new Uint8Array((await att?.blob.arrayBuffer()) ?? new ArrayBuffer(0))]).toEqual([...bytes]);
      // The next form continues the order.
      const next = await s2.saveForm(
        registerCaseForm({ caseId: 'case-2', caseType: 'household', caseName: 'Two' }),
      );
      expect(next.seq).toBeGreaterThan(item.seq);
    } finally {
      s2.close();
      db2.close();
      second.release();
    }
  });
});
