import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/server/receiver/group-commit.ts';
import type { FormProcessor, SubmissionInput, SubmissionOutcome } from '../../src/server/receiver/submit.ts';

/** A processor that writes one row per form and fails the forms whose xml says so, after writing. */
function fakeProcessor(db: Database.Database): FormProcessor {
  const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
  return {
    submit(input: SubmissionInput): SubmissionOutcome {
      insert.run(input.xml);
      if (input.xml.startsWith('fail')) throw new Error(`failed ${input.xml}`);
      return { status: 201, nature: 'submit_success', message: 'ok', formId: input.xml, kind: 'normal' };
    },
  } as unknown as FormProcessor;
}

function input(xml: string): SubmissionInput {
  return {
    domain: 'demo',
    xml,
    attachments: [],
    authUserId: 'u',
    openrosaVersion: '3.0',
    lastSyncToken: undefined,
    appId: '',
    buildId: '',
    submitIp: '',
    dateHeader: undefined,
  };
}

function setup(): { db: Database.Database; g: GroupCommit; ids(): string[] } {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id TEXT)');
  const g = new GroupCommit(db, fakeProcessor(db));
  return { db, g, ids: () => db.prepare('SELECT id FROM t ORDER BY rowid').pluck().all() as string[] };
}

describe('group commit', () => {
  it('a batch commits together and a failing form rolls back alone', async () => {
    const { db, g, ids } = setup();
    const results = await Promise.allSettled([
      g.submit(input('a')),
      g.submit(input('fail-b')),
      g.submit(input('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(ids()).toEqual(['a', 'c']);
    expect(g.largestBatch).toBe(3);
    expect(db.inTransaction).toBe(false);
  });

  it('a lone form commits in its own transaction; a lone failure keeps nothing', async () => {
    const { db, g, ids } = setup();
    await expect(g.submit(input('fail-alone'))).rejects.toThrow('failed fail-alone');
    expect(ids()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    await expect(g.submit(input('alone'))).resolves.toMatchObject({ formId: 'alone' });
    expect(ids()).toEqual(['alone']);
    expect(g.batches).toBe(2);
  });
});
