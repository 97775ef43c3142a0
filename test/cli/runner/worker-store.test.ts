import { describe, expect, it } from 'vitest';
import { openWorkerStore, runnerStoreKind } from '../../../src/cli/runner/worker-store.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';

describe('runner worker store (FIELDSIM_RUNNER_STORE)', () => {
  it('defaults to the in-memory Map store; SQLite or fake-indexeddb on request; anything else is a usage error', () => {
    expect(runnerStoreKind({})).toBe('memory');
    expect(runnerStoreKind({ FIELDSIM_RUNNER_STORE: 'memory' })).toBe('memory');
    expect(runnerStoreKind({ FIELDSIM_RUNNER_STORE: 'sqlite' })).toBe('sqlite');
    expect(runnerStoreKind({ FIELDSIM_RUNNER_STORE: 'fake-indexeddb' })).toBe('fake-indexeddb');
    expect(() => runnerStoreKind({ FIELDSIM_RUNNER_STORE: 'postgres' })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('gives each worker a private database of either kind', async () => {
    for (const kind of ['memory', 'sqlite', 'fake-indexeddb'] as const) {
      const a = await openWorkerStore(kind);
      const b = await openWorkerStore(kind);
      const dbA = new FieldsimDb('same-name', a.deps);
      const dbB = new FieldsimDb('same-name', b.deps);
      await new CaseDb(dbA).applyBlocks([
        {
          caseId: 'c1',
          actions: [{ kind: 'create', caseType: 't', caseName: 'A', ownerId: 'u' }],
        },
      ]);
      expect((await new CaseDb(dbA).stats()).total).toBe(1);
      expect((await new CaseDb(dbB).stats()).total).toBe(0);
      dbA.close();
      dbB.close();
      a.close();
      b.close();
    }
  });
});
